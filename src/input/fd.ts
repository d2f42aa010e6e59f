/**
 * Reading files, descriptors and stdin straight into guarded pages, and
 * writing a guarded buffer out to a descriptor. Every byte moves through
 * libc read(2)/write(2) called via FFI with the address of the locked
 * pages, so no runtime buffer, and no JavaScript heap, ever holds it.
 *
 * @module
 */

import { lend } from "../core/_lend.ts";
import {
  Accumulator,
  checkCount,
  type CheckedInput,
  checkInputOptions,
  INPUT_OPTION_KEYS,
  type InputOptions,
} from "./_accumulator.ts";
import { native } from "../core/_native.ts";
import { DARWIN } from "../../ffi/darwin.ts";
import { LINUX } from "../../ffi/linux.ts";
import { checkInteger, checkOptions, describe } from "../core/_validate.ts";
import { afterDelay, afterTurn } from "../core/_intrinsics.ts";
import { SecretMemoryError } from "../core/errors.ts";
import type { GuardedSecret, SecretMaker } from "../core/_secret.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

// Taken at load: a Reflect.apply replaced later would be handed the view
// lent over guarded pages (the secret itself, in writeTo).
const apply = Reflect.apply;

/**
 * An open file: a descriptor number, an object with a numeric `fd` (a
 * Node or Bun `FileHandle`), or a Deno `FsFile` (Deno 2 exposes no
 * descriptor, so its own `read`/`write` methods are used).
 */
export type FdOrFile = number | { readonly fd: number } | DenoFileLike;

/** The part of a Deno `FsFile` used when no descriptor is available. */
export interface DenoFileLike {
  /** Reads into `view`; the count, or null at end of file. */
  read(view: Uint8Array): Promise<number | null>;
  /** Writes from `view`; the count written. */
  write(view: Uint8Array): Promise<number>;
}

/**
 * Whether `error` is EAGAIN (nothing to read yet, or a pipe full), as the
 * running OS numbers it: 11 on Linux, 35 on macOS.
 */
export function wouldBlock(error: unknown): boolean {
  const eagain = native().os === "darwin" ? DARWIN.EAGAIN : LINUX.EAGAIN;
  return error instanceof SecretMemoryError && error.errno === eagain;
}

/** Options for `SecretBuffer.fromFile`. */
export interface FileOptions extends InputOptions {
  /**
   * The most milliseconds to wait when the path cannot seek (a FIFO, a
   * socket, a terminal; default 30000): for a writer to open it and to
   * finish. Past it the read fails with `INPUT_ERROR` and what was read is
   * wiped. A whole number, or `Infinity` to wait for ever. Files that can
   * seek never wait and take no timeout: regular files, and devices that
   * answer at once such as `/dev/urandom` (read until `maxSize`, giving
   * the event loop a turn after every MiB).
   */
  timeout?: number;
}

/** The default `timeout` of `fromFile`: 30 s. */
export const DEFAULT_TIMEOUT = 30_000;

function checkTimeout(timeout: unknown): number {
  if (timeout === Infinity) return timeout;
  return checkInteger(
    timeout,
    "timeout",
    0,
    Number.MAX_SAFE_INTEGER,
    "INVALID_ARGUMENT",
    "expected a whole number of milliseconds from 0, or Infinity",
  );
}

/** A descriptor number, or the file object to use through its methods. */
function resolve(fdOrFile: unknown): number | DenoFileLike {
  if (isFd(fdOrFile)) return fdOrFile;
  let cause: unknown;
  if (typeof fdOrFile === "object" && fdOrFile !== null) {
    try {
      // Each property read once: a getter may answer differently twice.
      const { fd } = fdOrFile as { fd?: unknown };
      if (isFd(fd)) return fd;
      const { read, write } = fdOrFile as Partial<DenoFileLike>;
      if (typeof read === "function" && typeof write === "function") {
        const file = fdOrFile;
        return {
          read: (view) => apply(read, file, [view]),
          write: (view) => apply(write, file, [view]),
        };
      }
    } catch (error) {
      // A getter or a Proxy trap threw: the caller's object, not ours.
      cause = error;
    }
  }
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${
      describe(fdOrFile)
    } as a file: expected a descriptor number, a FileHandle or a Deno.FsFile`,
    { cause },
  );
}

// A descriptor is a C int: a larger number would be cut to 32 bits by one
// FFI (another file) and refused with a TypeError by the others.
const MAX_FD = 0x7fffffff;

function isFd(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= MAX_FD;
}

function numericFd(fdOrFile: unknown, action: string): number {
  const target = resolve(fdOrFile);
  if (typeof target === "number") return target;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot ${action} synchronously: a Deno.FsFile has no descriptor; use the async method`,
  );
}

/** Reads `fd` to its end, synchronously, into an exact-size buffer. */
function drainSync<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  fd: number,
  what: string,
  checked: CheckedInput,
): S {
  const collected = new Accumulator(maker, what, checked);
  try {
    while (collected.readFrom(fd) > 0);
    return collected.finish();
  } finally {
    collected.discard();
  }
}

/**
 * Bytes an async drain reads between two turns of the event loop: a
 * device that never runs dry (`/dev/zero`) would otherwise hold the loop
 * until `maxSize`. A turn costs about a millisecond where only timers are
 * to be had, so not every read gets one; a small file gets none.
 */
const YIELD_EVERY = 1 << 20;

// Taken at load, like the other built-ins secmem relies on: a clock
// replaced later cannot stretch a FIFO's timeout for ever. (The wall
// clock, not core's monotonic one: tests/children/claims_timeout.ts moves
// it to stand 30 s on.) The timers are _intrinsics.ts' (afterDelay,
// afterTurn), taken at load there without reading Deno's lazy globals.
const now = Date.now;

/**
 * Reads a descriptor (with read(2)) or a Deno `FsFile` (with its own
 * `read`, see `callFile`) to its end without blocking the event loop: a
 * turn after every `YIELD_EVERY` bytes, and a timer while a non-blocking
 * descriptor has nothing yet (EAGAIN), backing off to 50 ms so that a
 * writer that comes late costs few wake-ups.
 *
 * With a `timeout`, `source` is a FIFO (or another file that cannot seek)
 * opened non-blocking. With no writer yet, read(2) answers 0 at once, the
 * same as at end of input; with a writer and nothing written yet, EAGAIN.
 * So 0 means the end only after a writer was seen (EAGAIN or a byte), and
 * the wait is bounded by `timeout`. Input that ends with no byte at all is
 * refused: a writer that opened and closed without writing cannot be told
 * from none (it may come and go between two reads).
 */
async function drain<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  source: number | DenoFileLike,
  what: string,
  checked: CheckedInput,
  timeout?: number,
): Promise<S> {
  const collected = new Accumulator(maker, what, checked);
  const deadline = now() + (timeout ?? Infinity);
  let writerSeen = timeout === undefined;
  let sinceYield = 0;
  let pause = 1;
  try {
    for (;;) {
      let count: number;
      try {
        if (typeof source === "number") {
          count = collected.readFrom(source, YIELD_EVERY - sinceYield);
        } else {
          const free = collected.space();
          count = await callFile(source, "read", free.address, free.length);
          collected.advance(count);
        }
      } catch (error) {
        if (!wouldBlock(error)) throw error;
        count = -1;
      }
      if (count > 0) {
        writerSeen = true;
        pause = 1;
        sinceYield += count;
        if (sinceYield < YIELD_EVERY) continue;
        await new Promise<void>((wake) => afterTurn(wake));
        sinceYield = 0;
        continue;
      }
      if (count < 0) writerSeen = true;
      else if (writerSeen) {
        if (collected.length > 0 || timeout === undefined) {
          return collected.finish();
        }
        throw notRead(what, "its writer closed it without writing a byte");
      }
      if (now() >= deadline) {
        const late = writerSeen
          ? "its writer did not finish"
          : "no writer opened it";
        throw notRead(what, `${late} within the timeout (${timeout} ms)`);
      }
      await new Promise<void>((wake) => afterDelay(wake, pause));
      sinceYield = 0;
      pause = Math.min(pause * 2, 50);
    }
  } finally {
    collected.discard();
  }
}

/** Input that cannot seek gave no secret, for `reason`. */
function notRead(what: string, reason: string): SecretMemoryError {
  return new SecretMemoryError(
    "INPUT_ERROR",
    `Cannot read ${what}: it cannot seek (a FIFO, socket or terminal), and ${reason}; start the writer first, or pass a larger { timeout }`,
  );
}

/** ESPIPE: a pread(2) on a FIFO, a socket or a terminal. */
const ESPIPE = 29;

/** Whether `fd` can seek (a regular file or a block device). */
function seekable(fd: number): boolean {
  const memory = native();
  // Windows has no FIFOs at a path; its ReadFile at an offset is no probe.
  if (memory.os === "windows") return true;
  try {
    // Zero bytes at offset 0: nothing is consumed, nothing is written.
    memory.readInto(fd, 0n, 0, 0);
    return true;
  } catch (error) {
    if (error instanceof SecretMemoryError && error.errno === ESPIPE) {
      return false;
    }
    throw error;
  }
}

/**
 * One call of a file object's own `read` or `write` with a fresh view over
 * `length` bytes at `address`; the count it reported, checked. The view is
 * a new ArrayBuffer (never a buffer's own, which the runtime might
 * detach), lent until it comes back: a file object that keeps the view
 * (or transfers its buffer away) leaves these pages quarantined, never
 * reused.
 */
async function callFile(
  file: DenoFileLike,
  method: "read" | "write",
  address: bigint,
  length: number,
): Promise<number> {
  const reading = method === "read";
  const loan = lend(native(), address, length);
  try {
    let count: unknown;
    try {
      count = await file[method](loan.view);
    } catch (cause) {
      if (cause instanceof SecretMemoryError) throw cause;
      throw new SecretMemoryError(
        "INPUT_ERROR",
        `Cannot ${
          reading ? "read from" : "write to"
        } the file object: its own method failed; see cause`,
        { cause },
      );
    }
    // null is the end of the file; anything else must be a true count.
    if (reading && count === null) count = 0;
    return checkCount(count, length, `the file's ${method}()`);
  } finally {
    loan.giveBack();
  }
}

/** See `SecretBuffer.fromStdinSync`. */
export function fromStdinSync<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  options?: InputOptions,
): S {
  return drainSync(maker, 0, "stdin", checkInputOptions(options));
}

/** See `SecretBuffer.fromStdin`. */
export async function fromStdin<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  options?: InputOptions,
): Promise<S> {
  return await drain(maker, 0, "stdin", checkInputOptions(options));
}

/** See `SecretBuffer.fromFileSync`. */
export function fromFileSync<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  path: string | URL,
  options?: InputOptions,
): S {
  const checked = checkPath(path);
  const input = checkInputOptions(options);
  // Blocking, as a synchronous read is: on a FIFO, open(2) waits for a
  // writer and read(2) for its end (see the README).
  const fd = openPath(checked, false);
  try {
    return drainSync(maker, fd, `the file ${checked}`, input);
  } catch (error) {
    throw fileError(checked, error);
  } finally {
    native().close(fd);
  }
}

/** See `SecretBuffer.fromFile`. */
export async function fromFile<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  path: string | URL,
  options?: FileOptions,
): Promise<S> {
  const checked = checkPath(path);
  const { timeout = DEFAULT_TIMEOUT, ...rest } = checkOptions(
    options,
    [...INPUT_OPTION_KEYS, "timeout"],
  );
  const wait = checkTimeout(timeout);
  const input = checkInputOptions(rest);
  // Opened non-blocking: a FIFO, socket or terminal then answers EAGAIN
  // instead of stalling the event loop, and the loop waits for it with
  // timers (a FIFO with no writer opens at once; see drain). Files that
  // can seek ignore the flag, and take no timeout.
  const fd = openPath(checked, true);
  try {
    const what = `the file ${checked}`;
    return await drain(maker, fd, what, input, seekable(fd) ? undefined : wait);
  } catch (error) {
    throw fileError(checked, error);
  } finally {
    native().close(fd);
  }
}

/** See `SecretBuffer.fromFdSync`. */
export function fromFdSync<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  fdOrFile: number | { readonly fd: number },
  options?: InputOptions,
): S {
  const fd = numericFd(fdOrFile, "read a Deno.FsFile");
  return drainSync(maker, fd, `descriptor ${fd}`, checkInputOptions(options));
}

/** See `SecretBuffer.fromFd`. */
export async function fromFd<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  fdOrFile: FdOrFile,
  options?: InputOptions,
): Promise<S> {
  const target = resolve(fdOrFile);
  const checked = checkInputOptions(options);
  const what = typeof target === "number" ? `descriptor ${target}` : "the file";
  return await drain(maker, target, what, checked);
}

/** See `SecretBuffer.writeTo`: writes all of `buffer`'s bytes. */
export async function writeTo(
  buffer: GuardedSecret,
  fdOrFile: FdOrFile,
): Promise<number> {
  const target = resolve(fdOrFile);
  if (typeof target === "number") return writeToSync(buffer, target);
  const size = buffer.size;
  return await buffer.read(async () => {
    let done = 0;
    while (done < size) {
      const at = buffer.address + BigInt(done);
      const count = await callFile(target, "write", at, size - done);
      // 0 would loop for ever.
      if (count === 0) {
        throw new SecretMemoryError(
          "INPUT_ERROR",
          "Cannot write to the file object: its write() wrote 0 bytes",
        );
      }
      done += count;
    }
    return done;
  });
}

/** See `SecretBuffer.writeToSync`. */
export function writeToSync(
  buffer: GuardedSecret,
  fdOrFile: number | { readonly fd: number },
): number {
  const fd = numericFd(fdOrFile, "write to a Deno.FsFile");
  const memory = native();
  // The scope is only for write(2) from the pages: no view goes out.
  return buffer.read(() => {
    let done = 0;
    while (done < buffer.size) {
      try {
        done += memory.writeFrom(
          fd,
          buffer.address + BigInt(done),
          buffer.size - done,
        );
      } catch (error) {
        if (!wouldBlock(error)) throw error;
        // A non-blocking pipe is full and the reader is another process:
        // sleep 2 ms (a synchronous call has no event loop to wait in).
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      }
    }
    return done;
  });
}

/**
 * Opens a path the caller named, after asking the runtime's permission
 * model: FFI could open any file, and secmem must not widen the sandbox
 * its program was started in (Deno without --allow-read, Node under
 * --permission). The library's own reads of /proc/self are not asked
 * (see the README): they are the process's own state, not a caller's path.
 */
function openPath(path: string, nonBlocking: boolean): number {
  const memory = native();
  const permission = memory.readPermission(path);
  if (!permission.granted) {
    const model = memory.runtime === "deno"
      ? "Deno's permissions do"
      : memory.runtime === "node"
      ? "Node's permission model (--permission) does"
      : "the runtime's permission model does";
    throw new SecretMemoryError(
      "PERMISSION_DENIED",
      `Cannot read the file ${
        JSON.stringify(path)
      }: ${model} not let this program read it,` +
        ` and secmem keeps to what the runtime allows; run with ${permission.flag}` +
        " (or grant a directory above it)",
    );
  }
  try {
    return memory.openRead(path, nonBlocking);
  } catch (error) {
    throw fileError(path, error);
  }
}

// errno values that name a next step, per OS family (Linux and macOS share
// the low numbers); Windows' GetLastError codes beside them.
const POSIX_ERRORS: Record<number, [string, string]> = {
  1: [
    "EPERM",
    "the OS refused: check the file's permissions and its directories'",
  ],
  2: [
    "ENOENT",
    "no such file: check the path (a relative one starts at the working directory)",
  ],
  5: ["EIO", "the device failed to read: check the disk or device"],
  6: [
    "ENXIO",
    "nothing answers at that path (a socket or device): name a file",
  ],
  13: [
    "EACCES",
    "permission denied: check the file's permissions and its directories' for the user this process runs as",
  ],
  20: ["ENOTDIR", "a part of the path is not a directory: check the path"],
  21: ["EISDIR", "it is a directory: name a file in it"],
  23: ["ENFILE", "the system has too many files open: try again later"],
  24: [
    "EMFILE",
    "this process has too many files open: close some, or raise the limit (ulimit -n)",
  ],
};
const LINUX_ERRORS: Record<number, [string, string]> = {
  36: ["ENAMETOOLONG", "the path is too long: shorten it"],
  40: ["ELOOP", "too many symbolic links: check where the links point"],
};
const DARWIN_ERRORS: Record<number, [string, string]> = {
  62: ["ELOOP", "too many symbolic links: check where the links point"],
  63: ["ENAMETOOLONG", "the path is too long: shorten it"],
};
const WINDOWS_ERRORS: Record<number, [string, string]> = {
  2: ["ERROR_FILE_NOT_FOUND", "no such file: check the path"],
  3: [
    "ERROR_PATH_NOT_FOUND",
    "a folder on the path does not exist: check the path",
  ],
  5: ["ERROR_ACCESS_DENIED", "access denied: check the file's permissions"],
  32: [
    "ERROR_SHARING_VIOLATION",
    "another process holds the file: close it there",
  ],
  123: ["ERROR_INVALID_NAME", "the path is not a valid name: check it"],
};

// The calls that touch the file itself; a failed mmap while the buffer
// grows is the memory's story, told as it is.
const FILE_CALLS: ReadonlySet<string> = new Set([
  "open",
  "read",
  "pread",
  "CreateFileW",
  "ReadFile",
]);

/**
 * An OS error met while opening or reading the file at `path`, told again
 * with the path and what to do; other errors (the input's own, already
 * naming the file) pass through.
 */
function fileError(path: string, error: unknown): unknown {
  if (
    !(error instanceof SecretMemoryError) || error.code !== "OS_ERROR" ||
    error.errno === undefined || !FILE_CALLS.has(error.syscall ?? "")
  ) {
    return error;
  }
  const os = native().os;
  const errno = error.errno;
  const known = os === "windows"
    ? WINDOWS_ERRORS[errno]
    : (os === "darwin" ? DARWIN_ERRORS[errno] : LINUX_ERRORS[errno]) ??
      POSIX_ERRORS[errno];
  const [name, step] = known ?? [`errno ${errno}`, "see the cause"];
  return new SecretMemoryError(
    "OS_ERROR",
    `Cannot read the file ${JSON.stringify(path)}: ${
      error.syscall ?? "the call"
    } failed with ${name}; ${step}`,
    { errno, syscall: error.syscall, cause: error },
  );
}

// Taken at load: a replacement made later must not let a NUL (the native
// open would stop there: "key\0.pub" opens "key") or an encoded slash
// through, so that a path names another file than the one checked.
const stringIncludes = String.prototype.includes;
const exec = RegExp.prototype.exec;
const decodeComponent = decodeURIComponent;
const ENCODED_SLASH = /%2f/i;
const hasNul = (text: string) => apply(stringIncludes, text, ["\0"]) as boolean;

/**
 * A path that means exactly one file: a non-empty string without NUL, or a
 * `file:` URL for this host whose decoded path has no NUL and no encoded
 * slash (`%2F` would name another file than the URL shows).
 */
function checkPath(path: unknown): string {
  if (typeof path === "string") {
    if (path.length > 0 && !hasNul(path)) return path;
  } else if (path instanceof URL) {
    return checkUrl(path);
  }
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot open ${
      describe(path)
    } as a path: expected a non-empty string without NUL, or a file: URL`,
  );
}

function checkUrl(url: URL): string {
  // Read each part once: a URL subclass could answer differently twice.
  const href = String(url.href);
  const parsed = new URL(href);
  const fail = (why: string): never => {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot open the URL as a path: ${why}`,
    );
  };
  if (parsed.protocol !== "file:") fail("expected a file: URL");
  if (parsed.host !== "" && parsed.host !== "localhost") {
    fail("a file: URL for another host names no local file");
  }
  const encoded = parsed.pathname;
  if (apply(exec, ENCODED_SLASH, [encoded]) !== null) {
    fail("its path has an encoded slash (%2F)");
  }
  let decoded: string;
  try {
    decoded = decodeComponent(encoded);
  } catch {
    return fail("its path is not valid percent-encoding");
  }
  if (decoded.length === 0 || hasNul(decoded)) {
    fail("its path, decoded, is empty or has a NUL byte");
  }
  return decoded;
}
