/**
 * scrypt (RFC 7914), synchronous and asynchronous, with V and B in
 * guarded memory.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { MAX_SIZE } from "../core/_layout.ts";
import type { SecretBuffer, SecretBufferOptions } from "../secret_buffer.ts";
import {
  checkInput,
  checkInteger,
  checkLength,
  checkOutputOptions,
  checkParams,
  checkSecret,
} from "./_input.ts";
import type { Input } from "./_kdf.ts";
import { type ScryptCost, ScryptJob } from "./_scrypt.ts";

/** scrypt's salt, costs and output length. */
export interface ScryptParams {
  /** Salt (public), unique per passphrase. */
  salt: Uint8Array;
  /** CPU/memory cost: a power of two above 1 (RFC 7914 suggests 2^14 to 2^20). */
  N: number;
  /** Block size factor (commonly 8). */
  r: number;
  /** Parallelisation factor (commonly 1). */
  p: number;
  /** Output bytes, 1 to 2^30. */
  length: number;
}

/** The most memory scrypt may use: V is 128·r·N bytes, B is 128·r·p. */
export const MAX_SCRYPT_MEMORY: number = 2 ** 30;

interface Checked {
  passphrase: SecretBuffer;
  salt: Input;
  cost: ScryptCost;
  length: number;
  /** The buffer options, the copy checkOutputOptions made. */
  options: SecretBufferOptions | undefined;
}

function check(
  passphrase: unknown,
  params: unknown,
  options: unknown,
): Checked {
  // The params and options first: their getters are the caller's code, and
  // run before the salt is measured.
  const p = checkParams(
    params,
    ["salt", "N", "r", "p", "length"],
    "scrypt params",
  );
  const checked = checkOutputOptions(options);
  const secret = checkSecret(passphrase, "the scrypt passphrase");
  const salt = checkInput(p.salt, "the scrypt salt");
  const N = checkInteger(p.N, "scrypt N", 2, 2 ** 30);
  if ((N & (N - 1)) !== 0) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${N} as scrypt N: expected a power of two (2^14 = 16384 is common)`,
    );
  }
  const r = checkInteger(p.r, "scrypt r", 1, 2 ** 24);
  const parallel = checkInteger(p.p, "scrypt p", 1, 2 ** 24);
  const memory = 128 * r * N + 128 * r * parallel;
  if (memory > MAX_SCRYPT_MEMORY || r * parallel >= 2 ** 30) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot run scrypt with N=${N}, r=${r}, p=${parallel}: it needs ${memory} bytes,` +
        ` above the limit of ${MAX_SCRYPT_MEMORY} (128·r·N + 128·r·p); lower N or r`,
    );
  }
  const length = checkLength(p.length, MAX_SIZE, "scrypt");
  return {
    passphrase: secret,
    salt,
    cost: { N, r, p: parallel },
    length,
    options: checked,
  };
}

function begin(c: Checked): ScryptJob {
  return new ScryptJob(c.cost, c.passphrase, c.salt, c.length, c.options);
}

/**
 * scrypt, synchronously. V (128·r·N bytes) and B are guarded buffers made
 * with `options`, so with the default lock policy they count against
 * RLIMIT_MEMLOCK: pass `{ lock: "best-effort" }` for large N on a machine
 * with a small limit.
 *
 * @param passphrase The passphrase (from `promptSecret`, for example).
 * @param params `salt`, `N`, `r`, `p`, `length`.
 * @param options Options for the work buffers and the result.
 * @returns A new SecretBuffer of `length` bytes, at rest.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for N not a power of two,
 * r or p out of range, more than 1 GiB of memory, or a salt that is not
 * bytes; `INVALID_SIZE` for the length; `DESTROYED`; and what
 * `SecretBuffer.alloc` throws (`MEMLOCK_LIMIT`).
 *
 * @example A key from a passphrase
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { scryptSync } from "@secmem/secmem/crypto";
 *
 * using passphrase = SecretBuffer.from(new TextEncoder().encode("correct horse"));
 * const salt = new Uint8Array(16);
 * using key = scryptSync(passphrase, { salt, N: 1024, r: 8, p: 1, length: 32 });
 * if (key.size !== 32) throw new Error("expected 32 bytes");
 * ```
 */
export function scryptSync(
  passphrase: SecretBuffer,
  params: ScryptParams,
  options?: SecretBufferOptions,
): SecretBuffer {
  const job = begin(check(passphrase, params, options));
  try {
    job.runSync();
    return job.take();
  } finally {
    job.dispose();
  }
}

function dispose(job: ScryptJob): void {
  try {
    job.dispose();
  } catch {
    // Purged behind our back: already wiped.
  }
}

/**
 * Milliseconds of work between two turns of the event loop. The job looks
 * at the clock every 64 Salsa20/8 cores or 16 KiB hashed (tens of
 * microseconds), so a slice ends within a fraction of a millisecond of
 * this, whatever N, r, p, the salt or the passphrase.
 */
const SLICE_MS = 5;

/**
 * scrypt without blocking the event loop: the work (both PBKDF2 phases
 * and the mixing) runs in slices of about 5 ms, measured on a clock, with
 * a turn of the event loop between them, whatever N, r, p, the salt, the
 * passphrase or the length. The work buffers (V and B) stay open for
 * writing from the first slice to the last, since protecting them again
 * after every slice would cost more than the slice; nothing but this
 * computation holds a view of them. They are wiped and unmapped when it
 * ends, however it ends; `purge()` in between makes it reject with
 * `DESTROYED`. The passphrase is read in the first slices only.
 *
 * @param passphrase The passphrase.
 * @param params `salt`, `N`, `r`, `p`, `length`.
 * @param options Options for the work buffers and the result.
 * @returns A promise of a new SecretBuffer of `length` bytes.
 * @throws {SecretMemoryError} as `scryptSync`, as a rejected promise;
 * bad arguments are checked before anything is mapped.
 *
 * @example
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { scrypt } from "@secmem/secmem/crypto";
 *
 * using passphrase = SecretBuffer.from(new TextEncoder().encode("pass"));
 * const salt = new TextEncoder().encode("NaCl");
 * using key = await scrypt(passphrase, { salt, N: 16, r: 1, p: 1, length: 64 });
 * if (key.size !== 64) throw new Error("expected 64 bytes");
 * ```
 */
export async function scrypt(
  passphrase: SecretBuffer,
  params: ScryptParams,
  options?: SecretBufferOptions,
): Promise<SecretBuffer> {
  // Checked before the first await, so bad arguments map nothing; a throw
  // here rejects the promise. Awaited, not chained with `.then()`: a
  // `then` (or a species) replaced after import would be handed the
  // callback that returns the derived key.
  const job = begin(check(passphrase, params, options));
  try {
    await job.runSliced(SLICE_MS);
    return job.take();
  } finally {
    dispose(job);
  }
}
