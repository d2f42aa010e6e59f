/**
 * Asymmetric keys that sign and agree without a copy: Ed25519 (RFC 8032)
 * and X25519 (RFC 7748) whose private keys, expanded scalars, nonces,
 * ladder states and shared secrets live in guarded pages and never in the
 * JS heap. No BigInt (a heap object the collector copies and never
 * wipes): field elements are small-integer limbs in typed views over
 * guarded work areas, and every secret-dependent choice is a masked
 * select, so time and memory access do not depend on the key.
 *
 * `ed25519Verify` is strict (RFC 8032 §5.1.7): S must be below the group
 * order, A and R canonical and not of small order, and the check is the
 * cofactorless [S]B = R + [k]A.
 *
 * @example Sign, verify, agree
 * ```ts
 * import { ed25519Verify, Ed25519Key, X25519Key } from "@secmem/secmem/keys";
 *
 * using signer = Ed25519Key.generate();
 * const message = new TextEncoder().encode("release 1.0");
 * const signature = signer.sign(message);
 * if (!ed25519Verify(signer.publicKey, message, signature)) throw new Error();
 *
 * using alice = X25519Key.generate();
 * using bob = X25519Key.generate();
 * using mine = alice.agree(bob.publicKey);
 * using theirs = bob.agree(alice.publicKey);
 * if (!mine.equals(theirs)) throw new Error();
 * ```
 *
 * @module
 */

export { Ed25519Key, ed25519Verify } from "./src/keys/ed25519.ts";
export { X25519Key } from "./src/keys/x25519.ts";
