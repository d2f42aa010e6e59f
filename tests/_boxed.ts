/**
 * Needles for boxed numbers: the IEEE 754 double that an interpreter tier
 * (V8's Ignition, for one) allocates on its heap for a number that is not
 * a small integer. A 32-bit word of a key read as an unsigned or a signed
 * number and boxed is 8 bytes that a byte search for the key never sees.
 * These needles are built from the key's bytes bit by bit, never forming
 * the word as a number (which would box it here too).
 *
 * @module
 */

import type { Needle } from "../src/doctor/_scan.ts";

/** Bits of 4 bytes, least significant first. */
function bitsOf(b: readonly number[]): number[] {
  const bits: number[] = [];
  for (let i = 0; i < 32; i++) bits.push((b[i >> 3] >> (i & 7)) & 1);
  return bits;
}

/**
 * The 8 bytes of the double holding the word `bytes` (little-endian, 4
 * bytes) read as `signed` or unsigned, or undefined when the runtime would
 * keep it as a small integer (below 2^30 in magnitude, the smallest Smi
 * range) so it is never boxed.
 */
function doubleBytes(
  bytes: readonly number[],
  signed: boolean,
): Uint8Array | undefined {
  let bits = bitsOf(bytes);
  let sign = 0;
  if (signed && bits[31] === 1) {
    // Two's complement: the magnitude is the negation.
    sign = 1;
    bits = bits.map((bit) => 1 - bit);
    for (let i = 0, carry = 1; i < 32 && carry; i++) {
      const sum = bits[i] + carry;
      bits[i] = sum & 1;
      carry = sum >> 1;
    }
  }
  let top = 31;
  while (top >= 0 && bits[top] === 0) top--;
  if (top < 30) return undefined;
  const out = new Array<number>(64).fill(0);
  out[63] = sign;
  const exponent = 1023 + top;
  for (let i = 0; i < 11; i++) out[52 + i] = (exponent >> i) & 1;
  for (let i = 0; i < top; i++) out[52 - top + i] = bits[i];
  const result = new Uint8Array(8);
  for (let i = 0; i < 64; i++) result[i >> 3] |= out[i] << (i & 7);
  return result;
}

/**
 * Masked needles for every boxed form of every 32-bit word of `bytes`
 * (each XOR `xor`), in both byte orders, signed and unsigned.
 */
export function boxedWordNeedles(bytes: Uint8Array, xor = 0): Needle[] {
  const needles: Needle[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    const le = [0, 1, 2, 3].map((i) => bytes[at + i] ^ xor);
    for (const word of [le, [...le].reverse()]) {
      for (const signed of [false, true]) {
        const double = doubleBytes(word, signed);
        if (double === undefined) continue;
        const mask = double.map(() => 1 + Math.floor(Math.random() * 255));
        needles.push({ masked: double.map((b, i) => b ^ mask[i]), mask });
        double.fill(0);
      }
    }
    le.fill(0);
  }
  return needles;
}
