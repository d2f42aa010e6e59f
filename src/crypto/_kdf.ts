/**
 * HKDF (RFC 5869) and PBKDF2-HMAC (RFC 8018, as scrypt uses it), writing
 * their output into guarded memory the caller gives. Every intermediate
 * (PRK, each T(i), each U block) is in the HMAC's guarded area or in the
 * output itself.
 *
 * @module
 */

import type { HashAlgorithm } from "./_sha2.ts";
import { Hmac } from "./_hmac.ts";
import { bytes, withWork } from "./_work.ts";

/** Bytes of public input: a view and the length read from it once. */
export interface Input {
  readonly bytes: Uint8Array;
  readonly length: number;
}

/** No bytes. */
export const EMPTY: Input = { bytes: new Uint8Array(0), length: 0 };

/**
 * HKDF-Extract then HKDF-Expand: `ikm[0..ikmLength)` to `out` (whose
 * length is the output length, at most 255 hash lengths, checked by the
 * caller).
 */
export function hkdfInto(
  hash: HashAlgorithm,
  ikm: Uint8Array,
  ikmLength: number,
  salt: Input,
  info: Input,
  out: Uint8Array,
): void {
  const hashLength = hash.outputLength;
  const macSize = Hmac.size(hash);
  // Work: | HMAC | PRK | T(i) | counter |
  withWork(macSize + 2 * hashLength + 8, (area) => {
    const mac = new Hmac(hash, area, 0);
    const prk = bytes(area, macSize, hashLength);
    const t = bytes(area, macSize + hashLength, hashLength);
    const counter = bytes(area, macSize + 2 * hashLength, 1);
    // An absent salt is a string of HashLen zeros (RFC 5869 2.2).
    if (salt.length === 0) mac.init(t, 0, hashLength);
    else mac.init(salt.bytes, 0, salt.length);
    mac.update(ikm, 0, ikmLength);
    mac.finish(prk, 0);
    for (let done = 0, i = 1; done < out.length; i++) {
      mac.init(prk, 0, hashLength);
      if (i > 1) mac.update(t, 0, hashLength);
      mac.update(info.bytes, 0, info.length);
      counter[0] = i;
      mac.update(counter, 0, 1);
      mac.finish(t, 0);
      const take = Math.min(hashLength, out.length - done);
      for (let j = 0; j < take; j++) out[done + j] = t[j];
      done += take;
    }
  });
}

/**
 * PBKDF2-HMAC with one iteration (all scrypt needs): `out` is filled with
 * T(1) ‖ T(2) ‖ …, T(i) = HMAC(password, salt ‖ INT(i)).
 */
export function pbkdf2Once(
  hash: HashAlgorithm,
  password: Uint8Array,
  passwordLength: number,
  salt: Uint8Array,
  saltLength: number,
  out: Uint8Array,
): void {
  const hashLength = hash.outputLength;
  const macSize = Hmac.size(hash);
  withWork(macSize + hashLength + 8, (area) => {
    const mac = new Hmac(hash, area, 0);
    const t = bytes(area, macSize, hashLength);
    const index = bytes(area, macSize + hashLength, 4);
    for (let done = 0, i = 1; done < out.length; i++) {
      mac.init(password, 0, passwordLength);
      mac.update(salt, 0, saltLength);
      index[0] = i >>> 24;
      index[1] = i >>> 16 & 0xff;
      index[2] = i >>> 8 & 0xff;
      index[3] = i & 0xff;
      mac.update(index, 0, 4);
      mac.finish(t, 0);
      const take = Math.min(hashLength, out.length - done);
      for (let j = 0; j < take; j++) out[done + j] = t[j];
      done += take;
    }
  });
}
