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
import { Bytes, lengthOf, now } from "../core/_intrinsics.ts";
import { bytes, withWork } from "./_work.ts";

/** Bytes of public input: a view and the length read from it once. */
export interface Input {
  readonly bytes: Uint8Array;
  readonly length: number;
}

/** No bytes. */
export const EMPTY: Input = { bytes: new Bytes(0), length: 0 };

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
    // The output's length from the engine, and no Math.min: a getter or a
    // Math function replaced after import would be handed the output view
    // (its buffer holds the blocks written so far), or end the loop early
    // and leave the rest of the key zero.
    const total = lengthOf(out);
    for (let done = 0, i = 1; done < total; i++) {
      mac.init(prk, 0, hashLength);
      if (i > 1) mac.update(t, 0, hashLength);
      mac.update(info.bytes, 0, info.length);
      counter[0] = i;
      mac.update(counter, 0, 1);
      mac.finish(t, 0);
      const take = total - done < hashLength ? total - done : hashLength;
      for (let j = 0; j < take; j++) out[done + j] = t[j];
      done += take;
    }
  });
}

/** Bytes hashed between two looks at the clock. */
const CLOCK_EVERY = 16384;

/** Salt bytes absorbed in one piece: a long salt is taken in pieces. */
const SALT_PIECE = 16384;

/**
 * PBKDF2-HMAC with one iteration (all scrypt needs), `out` filled with
 * T(1) ‖ T(2) ‖ …, T(i) = HMAC(password, salt ‖ INT(i)), in pieces that
 * end on a clock: for scrypt the output and the salt can each be up to a
 * GiB, which is seconds of hashing. The HMAC state and T(i) live in a
 * guarded area the caller keeps open for every call; this object holds
 * only public counters, so it resumes where the last call stopped.
 */
export class Pbkdf2Once {
  readonly #mac: Hmac;
  readonly #t: Uint8Array;
  readonly #tLength: number;
  readonly #index: Uint8Array;
  #i = 1;
  #done = 0;
  // Salt bytes absorbed into T(#i); -1 before its HMAC is started.
  #absorbed = -1;

  /** Work-area bytes a `Pbkdf2Once` over `hash` needs. */
  static size(hash: HashAlgorithm): number {
    return Hmac.size(hash) + hash.outputLength + 8;
  }

  /** Over `area[at .. at + Pbkdf2Once.size(hash))`; `at` a multiple of 8. */
  constructor(hash: HashAlgorithm, area: Uint8Array, at: number) {
    const macSize = Hmac.size(hash);
    this.#mac = new Hmac(hash, area, at);
    this.#t = bytes(area, at + macSize, hash.outputLength);
    this.#tLength = hash.outputLength;
    this.#index = bytes(area, at + macSize + hash.outputLength, 4);
  }

  /**
   * Goes on filling `out`; true once it is full. Stops early (false) at
   * the first look at the clock (`now()`, every few KiB hashed) that is
   * at or past `deadline`. Every call must pass the same key, salt and
   * `out`. A key longer than the hash's block is hashed again for every
   * T(i): pass its digest instead (HMAC's own rule makes that the same
   * key).
   */
  run(
    password: Uint8Array,
    passwordLength: number,
    salt: Uint8Array,
    saltLength: number,
    out: Uint8Array,
    deadline: number,
  ): boolean {
    const mac = this.#mac;
    const t = this.#t;
    const tLength = this.#tLength;
    const index = this.#index;
    const total = lengthOf(out);
    let work = 0;
    while (this.#done < total) {
      if (this.#absorbed < 0) {
        mac.init(password, 0, passwordLength);
        this.#absorbed = 0;
        work += 256;
      }
      if (this.#absorbed < saltLength) {
        const piece = this.#absorbed + SALT_PIECE;
        const end = piece < saltLength ? piece : saltLength;
        mac.update(salt, this.#absorbed, end);
        work += end - this.#absorbed;
        this.#absorbed = end;
      }
      if (this.#absorbed === saltLength) {
        const i = this.#i;
        index[0] = i >>> 24;
        index[1] = i >>> 16 & 0xff;
        index[2] = i >>> 8 & 0xff;
        index[3] = i & 0xff;
        mac.update(index, 0, 4);
        mac.finish(t, 0);
        const done = this.#done;
        const take = total - done < tLength ? total - done : tLength;
        for (let j = 0; j < take; j++) out[done + j] = t[j];
        this.#done = done + take;
        this.#i = i + 1;
        this.#absorbed = -1;
        work += 192;
      }
      if (work >= CLOCK_EVERY) {
        work = 0;
        if (now() >= deadline) break;
      }
    }
    return this.#done === total;
  }
}
