/**
 * The curve code's reused work areas (`LARGE_AREA_SIZE` in
 * src/crypto/_work.ts): a curve call nested in a running one takes the
 * next area and leaves the outer one as it was; every area is zero after
 * every call, when the call throws too; `purge()` mid-call fails the call
 * rather than answering; and the areas are the library's own, never
 * counted in `stats()` or `purge()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { purge, SecretBuffer, stats } from "../mod.ts";
import { Ed25519Key, ed25519Verify, X25519Key } from "../keys.ts";
import { LARGE_AREA_SIZE, withWork } from "../src/crypto/_work.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";

const message = new Uint8Array(100).map((_, i) => i * 7);

/** What sign, verify, agree and a public-key derivation answer here. */
function answers(
  seed: SecretBuffer,
  signer: Ed25519Key,
  agreer: X25519Key,
  peer: Uint8Array,
) {
  const signature = signer.sign(message);
  using shared = agreer.agree(peer);
  using again = Ed25519Key.fromSeed(seed);
  return {
    signature: [...signature],
    verified: ed25519Verify(signer.publicKey, message, signature),
    shared: shared.read((bytes) => [...bytes]),
    publicKey: [...again.publicKey],
  };
}

test("curve work nested in a running curve work area takes the next area: the outer bytes are untouched, every answer is right", () => {
  using seed = SecretBuffer.random(32);
  using signer = Ed25519Key.fromSeed(seed);
  using agreer = X25519Key.generate();
  using peer = X25519Key.generate();
  const all = () => answers(seed, signer, agreer, peer.publicKey);
  const honest = all();
  assert.equal(honest.verified, true);
  withWork(LARGE_AREA_SIZE, (outer) => {
    outer.fill(0xa5);
    assert.deepEqual(all(), honest);
    withWork(LARGE_AREA_SIZE, (middle) => {
      assert(middle.every((b) => b === 0), "the next area starts zeroed");
      middle.fill(0x5a);
      assert.deepEqual(all(), honest);
      assert(middle.every((b) => b === 0x5a), "middle area intact");
    });
    assert.equal(outer.length, LARGE_AREA_SIZE);
    assert(outer.every((b) => b === 0xa5), "outer area intact");
  });
  // A caller's getter that runs the curve code while a call is under way.
  let inner: unknown;
  const options = {
    get lock() {
      inner = all();
      return "required" as const;
    },
  };
  using shared = agreer.agree(peer.publicKey, options);
  assert.deepEqual(inner, honest);
  assert.deepEqual(shared.read((bytes) => [...bytes]), honest.shared);
});

test("a curve work area is zero after every call, also when the call throws", () => {
  using signer = Ed25519Key.generate();
  let seen: Uint8Array | undefined;
  withWork(6000, (area) => {
    seen = area;
    assert(area.every((b) => b === 0), "an area starts zeroed");
    area.fill(1);
  });
  assert(seen!.every((b) => b === 0), "and is wiped after");
  assert.throws(() =>
    withWork(6000, (area) => {
      area.fill(2);
      throw new Error("fails mid-call");
    })
  );
  assert(seen!.every((b) => b === 0), "also when the call throws");
  // The same area serves the curve code: after a signature it is zero.
  signer.sign(message);
  assert(seen!.every((b) => b === 0), "and after a signature");
  withWork(6000, (area) => assert.equal(area.buffer, seen!.buffer));
});

test("purge() while curve work runs fails the call; the next call maps a fresh area", () => {
  assertThrowsCode(() => withWork(6000, () => void purge()), "DESTROYED");
  // Nested: both the inner and the outer call refuse to answer.
  assertThrowsCode(
    () =>
      withWork(6000, () => {
        assertThrowsCode(
          () => withWork(6000, () => void purge()),
          "DESTROYED",
        );
      }),
    "DESTROYED",
  );
  using seed = SecretBuffer.random(32);
  using signer = Ed25519Key.fromSeed(seed);
  const signature = signer.sign(message);
  assert(ed25519Verify(signer.publicKey, message, signature));
});

test("the curve work areas are the library's own: not in stats(), not counted by purge()", () => {
  // Unmaps the areas too, so the calls below map them afresh.
  purge();
  const base = stats().liveBuffers;
  const seed = SecretBuffer.random(32);
  const signer = Ed25519Key.fromSeed(seed);
  seed.destroy();
  const before = stats();
  assert.equal(before.liveBuffers, base + 1);
  signer.sign(message);
  withWork(LARGE_AREA_SIZE, () => {
    withWork(LARGE_AREA_SIZE, () => {});
  });
  assert.deepEqual(stats(), before, "mapping the areas left stats() as it was");
  // Live now: the signer's own copy of its seed; the areas are not counted.
  const { destroyed } = purge();
  assert.equal(destroyed, base + 1, "only the caller's buffers are counted");
  assert.equal(signer.destroyed, true);
});
