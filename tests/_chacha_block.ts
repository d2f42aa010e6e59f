/**
 * The ChaCha20 block function (RFC 8439 §2.3), for the forensic tests only:
 * it computes a keystream block straight into memory the caller gives
 * (guarded memory), so the test can look for the block a cipher library
 * may have left behind without leaving one of its own. A test checks it
 * against `@noble/ciphers`. Never used to encrypt anything.
 *
 * @module
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

/**
 * Writes the 64-byte block for `key` (32 bytes), `nonce` (12 bytes) and
 * `counter` into `out`. Intermediate words live in local variables only.
 */
export function chachaBlock(
  key: Uint8Array,
  nonce: Uint8Array,
  counter: number,
  out: Uint8Array,
): void {
  // Signed words and 16-bit-half additions: V8's interpreter would box an
  // unsigned word or a 33-bit sum on its heap, where the forensic scans
  // would then find this helper's own copies.
  const word = (bytes: Uint8Array, at: number) =>
    bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24;
  const add = (a: number, b: number) => {
    const low = (a & 0xffff) + (b & 0xffff);
    return ((a >> 16) + (b >> 16) + (low >> 16)) << 16 | low & 0xffff;
  };
  const s = new Int32Array(16);
  const x = new Int32Array(16);
  try {
    for (let i = 0; i < 4; i++) s[i] = SIGMA[i];
    for (let i = 0; i < 8; i++) s[4 + i] = word(key, 4 * i);
    s[12] = counter | 0;
    for (let i = 0; i < 3; i++) s[13 + i] = word(nonce, 4 * i);
    x.set(s);
    const quarter = (a: number, b: number, c: number, d: number) => {
      x[a] = add(x[a], x[b]);
      x[d] ^= x[a];
      x[d] = x[d] << 16 | x[d] >>> 16;
      x[c] = add(x[c], x[d]);
      x[b] ^= x[c];
      x[b] = x[b] << 12 | x[b] >>> 20;
      x[a] = add(x[a], x[b]);
      x[d] ^= x[a];
      x[d] = x[d] << 8 | x[d] >>> 24;
      x[c] = add(x[c], x[d]);
      x[b] ^= x[c];
      x[b] = x[b] << 7 | x[b] >>> 25;
    };
    for (let round = 0; round < 10; round++) {
      quarter(0, 4, 8, 12);
      quarter(1, 5, 9, 13);
      quarter(2, 6, 10, 14);
      quarter(3, 7, 11, 15);
      quarter(0, 5, 10, 15);
      quarter(1, 6, 11, 12);
      quarter(2, 7, 8, 13);
      quarter(3, 4, 9, 14);
    }
    for (let i = 0; i < 16; i++) {
      const v = add(x[i], s[i]);
      out[4 * i] = v & 0xff;
      out[4 * i + 1] = v >>> 8 & 0xff;
      out[4 * i + 2] = v >>> 16 & 0xff;
      out[4 * i + 3] = v >>> 24;
    }
  } finally {
    s.fill(0);
    x.fill(0);
  }
}
