/**
 * Child: freezes the typed-array intrinsics (as `--frozen-intrinsics` or
 * SES lockdown would), then seals and opens an enclave and encrypts with
 * `./crypto`. Prints one JSON line.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { Enclave } from "../../enclave.ts";
import { decrypt, encrypt } from "../../crypto.ts";

for (
  const intrinsic of [
    Uint8Array,
    Uint8Array.prototype,
    Uint32Array,
    Uint32Array.prototype,
    Object.getPrototypeOf(Uint8Array),
    Object.getPrototypeOf(Uint8Array.prototype),
    ArrayBuffer,
    ArrayBuffer.prototype,
  ]
) Object.freeze(intrinsic);

const enclave = Enclave.seal(SecretBuffer.from(new Uint8Array([1, 2, 3])));
const opened = enclave.open();
const key = SecretBuffer.random(32);
const back = decrypt(key, encrypt(key, new Uint8Array([4, 5])));
console.log(JSON.stringify({
  opened: opened.equals(new Uint8Array([1, 2, 3])),
  decrypted: back.equals(new Uint8Array([4, 5])),
}));
