/**
 * The runtime's generator for public randomness, taken at load. Apart from
 * src/core/_intrinsics.ts because Node defines `globalThis.crypto` as an
 * accessor that loads its Web Crypto modules at the first read (13 to 17 ms
 * of CPU): only the modules that make nonces and ids import this one, so
 * importing the main entry does not pay for it.
 *
 * @module
 */

const apply = Reflect.apply;
const webCrypto = globalThis.crypto;
const getRandomValues = webCrypto.getRandomValues;

/**
 * Fills `view` from the runtime's generator, as it was at load: for public
 * randomness only (nonces, ids). A generator replaced later by other code
 * could repeat a nonce, which gives away the keystream; secret randomness
 * comes from the OS through FFI (`SecretBuffer.random`).
 */
export function publicRandom<T extends Uint8Array>(view: T): T {
  apply(getRandomValues, webCrypto, [view]);
  return view;
}
