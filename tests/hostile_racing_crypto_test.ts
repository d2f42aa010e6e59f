/**
 * Adversarial suite, issue 23 class 1 for the crypto entry: memory that
 * changes while it is read. A Worker toggles bytes of a SharedArrayBuffer
 * in a tight loop while this thread's child calls decrypt, hmac and hkdf
 * (one-shot and through keyed contexts) on views of it. Every answer must
 * be one that a single, unchanging input gives: decrypt returns the
 * plaintext that was encrypted or throws INTEGRITY, never plaintext the
 * tag did not cover; a MAC or an HKDF output is that of one of the two
 * inputs. On main before this, decrypt (read once for the tag, once for
 * the XOR) and hkdf (the info read once per output block) failed in all
 * three runtimes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";

interface Counts {
  calls: number;
  seen: number;
  wrong: number;
}

function race(which: string): Counts {
  const child = runChild(childScript("racing_crypto.ts"), [which], {
    timeout: 120_000,
  });
  assert.equal(
    child.status,
    0,
    `status ${child.status} signal ${child.signal}: ${child.stdout}${child.stderr}`,
  );
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as Counts;
}

for (
  const [which, what] of [
    ["decrypt", "decrypt: plaintext only if the tag passed over those bytes"],
    ["decrypt-key", "aeadKey.decrypt: the same"],
    ["hmac", "hmac: the MAC of one message, never of a mix"],
    ["hmac-key", "hmacKey.mac: the same"],
    ["hkdf", "hkdf: every output block from one info"],
  ]
) {
  test(`racing SharedArrayBuffer bytes, ${what}`, () => {
    const counts = race(which);
    assert(
      counts.calls >= 50,
      `too few calls to tell: ${JSON.stringify(counts)}`,
    );
    // The Worker's flips must have been seen, or this proved nothing.
    assert(counts.seen > 0, `no flip seen: ${JSON.stringify(counts)}`);
    assert(
      counts.seen < counts.calls,
      `no call saw the original: ${JSON.stringify(counts)}`,
    );
    assert.equal(counts.wrong, 0, JSON.stringify(counts));
  });
}
