/**
 * A leak checker users can run: after handing a secret to other code (a
 * crypto library, a driver, a parser), `findCopies(secret)` scans this
 * process's memory for other copies of its bytes.
 *
 * Method (the doctor's masked scan): every page that /proc/self/pagemap
 * marks present or swapped, in every mapping of /proc/self/maps, is read
 * through /proc/self/mem into guarded scratch memory and compared with the
 * secret. The scanner never holds the secret itself: it is given the
 * secret XOR a random mask, and the mask, and compares byte by byte. Both
 * halves live in guarded pages of their own, wiped and unmapped when the
 * scan ends: together they would give the secret back.
 * Guarded memory is left out (the secret's own range, every other
 * SecretBuffer's and pool arena's, in every thread, and every mapping the
 * process cannot read): a copy there is guarded too, so a clean chain
 * reports 0, and no scan can look into another secret's pages at rest.
 *
 * Limits: it sees only this process's memory (not the kernel's, not a
 * swap file, not another process it sent the secret to); only whole,
 * unencoded copies (a copy split across pages that are not adjacent in
 * the address space, or held as hex, base64, a BigInt or an expanded key
 * schedule, is missed); pages never touched are skipped. A `Uint8Array`
 * secret is itself on the heap and is counted. Linux only.
 *
 * @example Check what a library left behind
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { hmac } from "@secmem/secmem/crypto";
 * import { findCopies } from "@secmem/secmem/forensics";
 *
 * if (Deno.build.os === "linux") {
 *   using key = SecretBuffer.random(32);
 *   hmac("SHA-256", key, new Uint8Array([1, 2, 3]));
 *   const { copies } = findCopies(key);
 *   console.log(`copies of the key outside its guarded pages: ${copies}`);
 * }
 * ```
 *
 * @module
 */

import { native } from "./src/core/_native.ts";
import { SecretMemoryError } from "./src/core/errors.ts";
import { checkOptions, readFailed } from "./src/core/_validate.ts";
import { isSecretBuffer, type SecretBuffer } from "./src/secret_buffer.ts";
import { scanMemoryAll, sealNeedle } from "./src/doctor/_scan.ts";
import { append, Buffers, Bytes } from "./src/core/_intrinsics.ts";
import { publicRandom } from "./src/core/_public_random.ts";
import { checkInput, checkSecret } from "./src/crypto/_input.ts";
import { guardedRanges } from "./src/core/_process_table.ts";
import { liveRanges } from "./src/core/_registry.ts";
import { arenaRanges } from "./src/pool/_arena.ts";
import { openRangesOfEveryThread } from "./src/core/_open_ranges.ts";

/** What `findCopies` found. */
export interface CopiesReport {
  /** Copies of the secret's bytes outside its own guarded range. */
  copies: number;
  /** Where each copy starts. */
  addresses: bigint[];
  /** Bytes of present pages read. */
  scannedBytes: number;
}

/** Options for `findCopies`. */
export interface FindCopiesOptions {
  /**
   * More address ranges to leave out, as [start, end) pairs: other
   * guarded buffers the secret was deliberately copied into, say.
   */
  exclude?: readonly (readonly [bigint, bigint])[];
}

/** Secrets shorter than this would match by chance in a large heap. */
export const MIN_SECRET_SIZE = 8;

/**
 * Scans this process's present pages for copies of `secret`, leaving out
 * guarded memory (its own range and every other buffer's and arena's). Takes about a second per GiB of
 * resident memory.
 *
 * @param secret The secret to look for: a SecretBuffer (read in place) or
 * ordinary bytes (which are then themselves one of the copies found).
 * @param options `exclude`: more ranges to leave out.
 * @returns The number of copies, their addresses, and the bytes scanned.
 * @throws {SecretMemoryError} `UNSUPPORTED_PLATFORM` off Linux;
 * `INVALID_ARGUMENT` for a secret shorter than 8 bytes or not bytes;
 * `DESTROYED` for a destroyed buffer; `OS_ERROR` when the scan cannot see
 * (a control pattern put on the heap was not found).
 *
 * @example A key that never left its pages
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { findCopies } from "@secmem/secmem/forensics";
 *
 * if (Deno.build.os === "linux") {
 *   using key = SecretBuffer.random(32);
 *   const report = findCopies(key);
 *   if (report.copies !== 0) throw new Error("the key was copied");
 * }
 * ```
 */
export function findCopies(
  secret: SecretBuffer | Uint8Array,
  options?: FindCopiesOptions,
): CopiesReport {
  const memory = native();
  if (memory.os !== "linux") {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot scan for copies on ${memory.os}: findCopies reads /proc/self, which only Linux has`,
    );
  }
  const { exclude = [] } = checkOptions(options, ["exclude"]);
  const ranges = checkRanges(exclude);
  let size: number;
  let length: number | undefined;
  if (isSecretBuffer(secret)) {
    const buffer = checkSecret(secret, "the secret");
    size = buffer.size;
    append(ranges, [buffer.address, buffer.address + BigInt(size)]);
  } else {
    size = length = checkInput(secret, "the secret").length;
  }
  // Guarded memory is left out, every thread's: a copy there is guarded
  // too, and a hit inside another secret's pages would tell that secret's
  // bytes to whoever picks the needle. At rest they cannot be read; open,
  // another thread's are known by the list every thread writes (the main
  // thread enters none of its buffers in the process table). Appended by
  // index: a spread's iterator replaced after import would drop them.
  const guarded = [
    guardedRanges(),
    liveRanges(),
    arenaRanges(),
    openRangesOfEveryThread(native()),
  ];
  for (let g = 0; g < guarded.length; g++) {
    for (let i = 0; i < guarded[g].length; i++) {
      append(ranges, guarded[g][i]);
    }
  }
  if (size < MIN_SECRET_SIZE) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot look for a ${size}-byte secret: at least ${MIN_SECRET_SIZE} bytes are needed to tell a copy from chance`,
    );
  }
  // Unreadable mappings too: another version of secmem keeps a table of its
  // own, and its pages at rest are left out only by their protection.
  const needle = sealNeedle(secret, length);
  let results;
  try {
    // A control on the heap, looked for in the same pass, that must be
    // seen: a scan blinded (/proc read as empty, a built-in replaced in
    // the runtime's own layer) must refuse, not report "no copies".
    const control = publicRandom(new Bytes(new Buffers(32)));
    const controlNeedle = sealNeedle(control, 32);
    try {
      results = scanMemoryAll([needle, controlNeedle], ranges, true);
    } finally {
      controlNeedle.dispose();
    }
  } finally {
    needle.dispose();
  }
  const result = results[0];
  if (results[1].hits.length === 0) {
    throw new SecretMemoryError(
      "OS_ERROR",
      `Cannot count copies: a control put on the heap was not found in ${result.bytesScanned} bytes scanned, so the scan cannot see this process's memory; run it before other code replaces built-ins, and check that /proc/self is readable`,
    );
  }
  return {
    copies: result.hits.length,
    addresses: result.hits,
    scannedBytes: result.bytesScanned,
  };
}

function checkRanges(value: unknown): [bigint, bigint][] {
  const bad = () =>
    new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot use exclude: expected an array of [start, end) pairs of bigint addresses",
    );
  try {
    if (!Array.isArray(value)) throw bad();
    // By index, each length read once: never the array's own methods.
    const ranges: [bigint, bigint][] = [];
    const count = value.length;
    for (let i = 0; i < count; i++) {
      const pair: unknown = value[i];
      if (!Array.isArray(pair) || pair.length !== 2) throw bad();
      const start: unknown = pair[0];
      const end: unknown = pair[1];
      if (
        typeof start !== "bigint" || typeof end !== "bigint" || end < start
      ) {
        throw bad();
      }
      append(ranges, [start, end]);
    }
    return ranges;
  } catch (cause) {
    throw readFailed("exclude", "a plain array of pairs", cause);
  }
}
