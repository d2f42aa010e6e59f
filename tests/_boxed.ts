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
 * bytes) read as `signed` or unsigned, XOR `mask`, or undefined when the
 * runtime would keep it as a small integer (below 2^30 in magnitude, the
 * smallest Smi range) so it is never boxed. Each byte is masked as it is
 * formed: an unmasked double in a heap array, moved by a scavenge before it
 * was wiped, would be a copy the scan then finds and blames on the library.
 */
function maskedDoubleBytes(
  bytes: readonly number[],
  signed: boolean,
  mask: Uint8Array,
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
  for (let k = 0; k < 8; k++) {
    let byte = 0;
    for (let i = 0; i < 8; i++) byte |= out[8 * k + i] << i;
    result[k] = byte ^ mask[k];
  }
  out.fill(0);
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
    const be = [le[3], le[2], le[1], le[0]];
    for (const word of [le, be]) {
      for (const signed of [false, true]) {
        const mask = new Uint8Array(8).map(() =>
          1 + Math.floor(Math.random() * 255)
        );
        const masked = maskedDoubleBytes(word, signed, mask);
        if (masked !== undefined) needles.push({ masked, mask });
      }
    }
    le.fill(0);
    be.fill(0);
  }
  return needles;
}

/**
 * The leak control's word: the first 32-bit word of `key` (little-endian)
 * whose top bit is set, formed as an unsigned number, which V8 boxes on
 * its heap; 0 when no word of the first 8 has that bit.
 */
export function leakOneWord(key: Uint8Array): number {
  for (let i = 0; i < 8; i++) {
    if (key[4 * i + 3] & 0x80) {
      return (key[4 * i] | key[4 * i + 1] << 8 | key[4 * i + 2] << 16 |
        key[4 * i + 3] << 24) >>> 0;
    }
  }
  return 0;
}

/**
 * Hits per secret's name, from the results of a scan whose needles were
 * `boxed`'s lists in their order, from `results`' first entry on.
 */
export function countBoxed(
  boxed: Record<string, Needle[]>,
  results: readonly { hits: readonly bigint[] }[],
): Record<string, number> {
  const counts: Record<string, number> = {};
  let at = 0;
  for (const [name, needles] of Object.entries(boxed)) {
    counts[name] = 0;
    for (let i = 0; i < needles.length; i++) {
      counts[name] += results[at++].hits.length;
    }
  }
  return counts;
}

/**
 * Runs `call` `calls` times from `tasks` concurrent async tasks, each
 * yielding to the event loop between its calls: a server's load.
 */
export async function underLoad(
  tasks: number,
  calls: number,
  call: () => Promise<void>,
): Promise<void> {
  const running = [];
  for (let t = 0; t < tasks && calls > 1; t++) {
    running.push((async () => {
      for (let i = t; i < calls; i += tasks) {
        await call();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    })());
  }
  await Promise.all(running);
}
