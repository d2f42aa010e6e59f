/**
 * Evidence that `./crypto`'s `encrypt` writes what libsodium reads: its
 * message, nonce ‖ ciphertext ‖ tag, opens with libsodium's own
 * `crypto_aead_xchacha20poly1305_ietf_decrypt` given the nonce, bound here
 * through the running runtime's FFI adapter; a changed byte is refused
 * (control). Run in Bun (the Deno and Node adapters bind at most seven
 * parameters); skipped where libsodium is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { SecretBuffer } from "../mod.ts";
import { encrypt } from "../crypto.ts";
import { loadAdapter } from "../ffi/load.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const SODIUM = {
  // int sodium_init(void)
  sodium_init: { parameters: [], result: "i32" },
  // int crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m,
  //   unsigned long long *mlen_p, unsigned char *nsec, const unsigned char *c,
  //   unsigned long long clen, const unsigned char *ad,
  //   unsigned long long adlen, const unsigned char *npub,
  //   const unsigned char *k)
  crypto_aead_xchacha20poly1305_ietf_decrypt: {
    parameters: [
      "buffer",
      "pointer",
      "pointer",
      "buffer",
      "u64",
      "buffer",
      "u64",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
} as const;

function bindSodium() {
  if (linuxOnly) return linuxOnly;
  // The message is the same in every runtime (one TypeScript source); only
  // Bun's adapter binds a function of libsodium's nine parameters.
  if (runtime !== "bun") {
    return "libsodium's decrypt takes 9 parameters; only the Bun adapter binds that many";
  }
  try {
    return loadAdapter().open(["libsodium.so.23", "libsodium.so"], SODIUM);
  } catch (error) {
    return `libsodium is not installed: ${(error as Error).message}`;
  }
}
const sodium = bindSodium();

test(
  "libsodium's crypto_aead_xchacha20poly1305_ietf_decrypt opens encrypt's message; a changed byte is refused",
  () => {
    if (typeof sodium === "string") throw new Error(sodium);
    assert(sodium.sodium_init() >= 0, "sodium_init failed");
    const key = randomBytes(32);
    const aad = new TextEncoder().encode("header");
    for (const size of [0, 1, 63, 64, 65, 1000]) {
      const plaintext = new Uint8Array(randomBytes(size));
      const message = encrypt(
        SecretBuffer.from(new Uint8Array(key)),
        plaintext,
        { aad },
      );
      const nonce = message.subarray(0, 24);
      const sealed = message.slice(24);
      const opened = new Uint8Array(size + 1);
      const open = (c: Uint8Array): number =>
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
          opened,
          0n,
          0n,
          c,
          c.length,
          aad,
          aad.length,
          nonce,
          key,
        );
      assert.equal(open(sealed), 0, `size ${size}: libsodium refused it`);
      assert.deepEqual(opened.subarray(0, size), plaintext);
      sealed[sealed.length - 1] ^= 1;
      assert.equal(open(sealed), -1, `size ${size}: a changed tag was taken`);
    }
    key.fill(0);
  },
  { skip: typeof sodium === "string" ? sodium : false },
);
