/**
 * Reading a byte stream into guarded pages. A byte `ReadableStream`
 * (`type: "bytes"`) is read with a BYOB reader, so the stream's source
 * writes into a view over the locked pages; any other stream or async
 * iterable of `Uint8Array` chunks is copied in chunk by chunk, and each
 * chunk is zeroed as soon as it is copied.
 *
 * @module
 */

import {
  Accumulator,
  checkInputOptions,
  type InputOptions,
} from "./_accumulator.ts";
import { native } from "../core/_native.ts";
import { describe } from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import type { GuardedSecret, SecretMaker } from "../core/_secret.ts";
import {
  awaitable,
  bufferOf,
  detachBuffer,
  isUint8Array,
  lengthOf,
  zero,
} from "../core/_intrinsics.ts";
import { isOwnSource } from "../core/_open.ts";
import { aliases, lend } from "../core/_lend.ts";

/** What `fromStream` accepts. */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

interface ByobReader {
  read(view: Uint8Array): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** See `SecretBuffer.fromStream`. */
export async function fromStream<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  stream: ByteSource,
  options?: InputOptions,
): Promise<S> {
  const checked = checkInputOptions(options);
  const reader = isReadableStream(stream) ? byobReader(stream) : undefined;
  if (reader === undefined && !isAsyncIterable(stream)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot read ${
        describe(stream)
      } as a stream: expected a ReadableStream or an async iterable of Uint8Array`,
    );
  }
  let collected: Accumulator<S> | undefined;
  try {
    // Inside the try: a first buffer refused (the lock limit) must still
    // give the stream its lock back.
    collected = new Accumulator(maker, "the stream", checked);
    if (reader !== undefined) await readByob(collected, reader);
    else await readChunks(collected, stream);
    return collected.finish();
  } catch (error) {
    if (error instanceof SecretMemoryError) {
      // A stream past maxSize may never end: it is cancelled, not drained.
      if (reader !== undefined && error.code === "TOO_LARGE") {
        await cancelQuietly(reader);
      }
      throw error;
    }
    throw new SecretMemoryError(
      "INPUT_ERROR",
      "Cannot read the stream: it failed while it was read; nothing read was kept",
      { cause: error },
    );
  } finally {
    // Our pages first: a reader whose releaseLock throws must not keep
    // the bytes read so far alive.
    collected?.discard();
    try {
      reader?.releaseLock();
    } catch {
      // The stream keeps its lock: its own business, and not a reason to
      // lose what was read (or to hide the error that ended the read).
    }
  }
}

/**
 * Whether `value` is a ReadableStream, without letting a Proxy's traps
 * throw through (`instanceof` asks the value for its prototype).
 */
function isReadableStream(value: unknown): value is ReadableStream {
  try {
    return value instanceof ReadableStream;
  } catch {
    return false;
  }
}

/** Whether `value` has an async iterator, a throwing getter being a no. */
function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  try {
    return typeof value === "object" && value !== null &&
      typeof (value as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] ===
        "function";
  } catch {
    return false;
  }
}

/** A BYOB reader, or undefined when the stream is not a byte stream. */
function byobReader(stream: ReadableStream): ByobReader | undefined {
  try {
    return (stream as unknown as {
      getReader(options: { mode: "byob" }): ByobReader;
    }).getReader({ mode: "byob" });
  } catch (error) {
    // Not a byte stream (TypeError); a locked stream fails the same way
    // below, with the runtime's own message.
    if (error instanceof TypeError) return undefined;
    throw error;
  }
}

/** Reads a byte stream to its end, its source writing into the pages. */
async function readByob(
  collected: Accumulator<GuardedSecret>,
  reader: ByobReader,
): Promise<void> {
  const memory = native();
  for (let done = false; !done;) {
    // At maxSize the space is the one byte that tells whether the stream
    // goes on (see Accumulator).
    const free = collected.space();
    // A fresh ArrayBuffer over the pages, lent to the stream: the reader
    // transfers whatever it is given, so it is never a buffer's own, and
    // it counts as escaped until it comes back.
    const loan = lend(memory, free.address, free.length);
    // The count checked against the free space is the count used: a
    // view another thread lengthens must not be measured twice.
    // Awaitable as it is (so is the reader's promise in readOnce): an
    // await looks up Promise.prototype's constructor, and when it is not
    // the built-in one calls `then`; replaced after import, the two were
    // handed the view over the pages with the bytes just read.
    const answer = await awaitable(readOnce(reader, loan.view, free.length));
    const { value, count } = answer;
    done = answer.done;
    // A view over another secret's guarded pages (one the source got
    // hold of) must be neither probed nor wiped: it may be read-only.
    if (value !== undefined && isOwnSource(value, loan.loan)) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot read the stream: it answered with a view over another secret's guarded pages",
      );
    }
    const returned = value !== undefined &&
      aliases(memory, free.address, value);
    if (returned) {
      // Our memory came back: detach it, and the loan is over.
      detachBuffer(bufferOf(value) as ArrayBuffer);
      loan.settle();
    }
    if (value === undefined || returned) {
      collected.advance(count);
    } else {
      // respondWithNewView over the stream's own buffer: the `count`
      // bytes measured are copied in (a view another thread grew
      // meanwhile is refused) and wiped there. The view we lent is
      // still out (the source may have taken it), so the loan stays and
      // the pages will be quarantined.
      try {
        collected.append(value, count);
      } finally {
        // Its buffer may be gone since (transferred away, or shrunk under
        // a fixed-length view): fill() would throw over the error that
        // says so, and there is nothing left in it to wipe.
        if (lengthOf(value) > 0) zero(value);
      }
    }
  }
}

/** A BYOB answer as readOnce checked it. */
interface Answer {
  done: boolean;
  value: Uint8Array | undefined;
  count: number;
}

/**
 * An answer with no prototype: the async readOnce resolves with it, which
 * looks `then` up, and a getter planted on Object.prototype would be
 * handed the view over the pages and could answer in the check's stead.
 */
function answer(
  done: boolean,
  value: Uint8Array | undefined,
  count: number,
): Answer {
  return { __proto__: null, done, value, count } as unknown as Answer;
}

/**
 * One BYOB read, its answer checked: a count beyond the view, or a value
 * that is not a Uint8Array, is refused.
 */
async function readOnce(
  reader: ByobReader,
  view: Uint8Array,
  room: number,
): Promise<Answer> {
  const pending = reader.read(view);
  try {
    awaitable(pending);
  } catch {
    // Not a promise that takes a property (a look-alike reader's): its
    // own answer is the caller's stream's to give.
  }
  const result: unknown = await pending;
  let done: unknown;
  let value: unknown;
  try {
    ({ done, value } = result as { done: unknown; value: unknown });
  } catch (cause) {
    throw badRead(cause);
  }
  if (value === undefined && done === true) {
    return answer(true, value, 0);
  }
  if (!isUint8Array(value)) throw badRead();
  const count = lengthOf(value);
  if (count > room) throw badRead();
  return answer(done === true, value, count);
}

function badRead(cause?: unknown): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_ARGUMENT",
    "Cannot read the stream: its reader answered with something other than a" +
      " Uint8Array of at most the bytes asked for; pass a standard ReadableStream",
    { cause },
  );
}

async function cancelQuietly(reader: ByobReader): Promise<void> {
  try {
    await reader.cancel();
  } catch {
    // The stream is being refused anyway.
  }
}

/** Copies each chunk in, and zeroes it once copied. */
async function readChunks(
  collected: Accumulator<GuardedSecret>,
  source: AsyncIterable<Uint8Array>,
): Promise<void> {
  for await (const chunk of source) {
    if (!isUint8Array(chunk)) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot read a chunk of ${
          describe(chunk)
        } from the stream: expected Uint8Array chunks`,
      );
    }
    // A chunk over guarded pages (another secret's view) is its owner's
    // to wipe, and may be read-only. Decided before the bytes are ours
    // too, so that they are compared with nothing they were copied to.
    const ours = isOwnSource(chunk);
    try {
      collected.append(chunk);
    } finally {
      if (!ours) zero(chunk);
    }
  }
}
