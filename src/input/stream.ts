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
  tooLarge,
} from "./_accumulator.ts";
import { native } from "../core/_native.ts";
import { describe } from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import type { GuardedSecret, SecretMaker } from "../core/_secret.ts";

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
  if (stream instanceof ReadableStream) {
    const reader = byobReader(stream);
    if (reader !== undefined) return await readByob(maker, reader, checked);
  }
  if (
    typeof stream !== "object" || stream === null ||
    typeof (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !==
      "function"
  ) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot read ${
        describe(stream)
      } as a stream: expected a ReadableStream or an async iterable of Uint8Array`,
    );
  }
  return await readChunks(maker, stream, checked);
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

async function readByob<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  reader: ByobReader,
  checked: ReturnType<typeof checkInputOptions>,
): Promise<S> {
  const collected = new Accumulator(maker, "the stream", checked);
  const memory = native();
  try {
    for (;;) {
      // When full, ask for one more byte into a scratch byte that is wiped:
      // only whether the stream goes on matters.
      const free = collected.space();
      const target = free ?? { address: 0n, length: 1 };
      const scratch = free === undefined ? new Uint8Array(1) : undefined;
      // A fresh ArrayBuffer over the pages: the reader transfers (detaches)
      // whatever it is given, so it must never be a buffer's own.
      const view = scratch ??
        new Uint8Array(memory.view(target.address, target.length));
      const { done, value } = await reader.read(view);
      const count = value?.length ?? 0;
      if (scratch !== undefined) value?.fill(0);
      // The reader hands back the memory in yet another ArrayBuffer;
      // detach it too, so that nothing keeps a way into the pages.
      if (value !== undefined && !(value.buffer as ArrayBuffer).detached) {
        (value.buffer as ArrayBuffer).transfer(0);
      }
      if (scratch !== undefined) {
        if (count > 0) {
          await reader.cancel().catch(() => {});
          throw tooLarge("the stream", checked.maxSize);
        }
      } else {
        collected.advance(count);
      }
      if (done) return collected.finish();
    }
  } finally {
    reader.releaseLock();
    collected.discard();
  }
}

async function readChunks<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  source: AsyncIterable<Uint8Array>,
  checked: ReturnType<typeof checkInputOptions>,
): Promise<S> {
  const collected = new Accumulator(maker, "the stream", checked);
  try {
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot read a chunk of ${
            describe(chunk)
          } from the stream: expected Uint8Array chunks`,
        );
      }
      try {
        collected.append(chunk);
      } finally {
        chunk.fill(0);
      }
    }
    return collected.finish();
  } finally {
    collected.discard();
  }
}
