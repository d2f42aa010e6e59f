/**
 * Tests for reading byte streams and async iterables into guarded pages.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { test } from "../_harness.ts";
import assert from "node:assert/strict";
import { assertRejectsCode } from "../_error_code.ts";
import { createFake } from "../_fake_native.ts";
import { useNativeForTesting } from "../../src/core/_native.ts";

function sample(length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(Math.random() * 256));
}

/**
 * A byte stream whose source writes into the reader's own view (the BYOB
 * request) when there is one, and records the views it was handed.
 */
function byteStream(data: Uint8Array, step: number) {
  let at = 0;
  const seen = { byob: 0, enqueued: 0, cancelled: false };
  const stream = new ReadableStream({
    type: "bytes",
    cancel() {
      seen.cancelled = true;
    },
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const request = controller.byobRequest;
      if (request?.view) {
        const view = request.view as Uint8Array;
        const count = Math.min(step, view.byteLength, data.length - at);
        new Uint8Array(view.buffer, view.byteOffset, count).set(
          data.subarray(at, at + count),
        );
        at += count;
        seen.byob++;
        request.respond(count);
      } else {
        const count = Math.min(step, data.length - at);
        controller.enqueue(data.slice(at, at + count));
        at += count;
        seen.enqueued++;
      }
    },
  });
  return { stream, seen };
}

test("fromStream reads a byte stream through a BYOB reader", async () => {
  const data = sample(10_000);
  const { stream, seen } = byteStream(data, 3000);
  using secret = await SecretBuffer.fromStream(stream, { maxSize: 20_000 });
  assert(secret.equals(data), "content differs");
  assert(seen.byob > 0, "the source never saw a BYOB request");
  assert.deepEqual(seen.enqueued, 0, "chunks were enqueued instead");
});

test("fromStream reads an ordinary ReadableStream and wipes its chunks", async () => {
  const data = sample(5000);
  const chunks = [
    data.slice(0, 1000),
    data.slice(1000, 4096),
    data.slice(4096),
  ];
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  using secret = await SecretBuffer.fromStream(stream);
  assert(secret.equals(data), "content differs");
  for (const chunk of chunks) {
    assert(chunk.every((b) => b === 0), "a chunk was not wiped");
  }
});

test("fromStream reads an async iterable and wipes its chunks", async () => {
  const chunks = [
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    new Uint8Array([4]),
  ];
  async function* source() {
    yield* chunks;
  }
  using secret = await SecretBuffer.fromStream(source());
  assert(secret.equals(new Uint8Array([1, 2, 3, 4])), "content differs");
  assert(chunks.every((c) => c.every((b) => b === 0)), "chunks not wiped");
});

test("fromStream refuses input past maxSize, cancels, maps nothing", async () => {
  const before = stats();
  const { stream } = byteStream(sample(101), 40);
  await assertRejectsCode(
    () => SecretBuffer.fromStream(stream, { maxSize: 100 }),
    "TOO_LARGE",
  );
  let cancelled = false;
  const plain = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(64));
    },
    cancel() {
      cancelled = true;
    },
  });
  const oversized = new Uint8Array(64).fill(9);
  await assertRejectsCode(
    () => SecretBuffer.fromStream(plain, { maxSize: 100 }),
    "TOO_LARGE",
  );
  assert(cancelled, "the endless stream was not cancelled");
  async function* big() {
    yield oversized;
  }
  await assertRejectsCode(
    () => SecretBuffer.fromStream(big(), { maxSize: 10 }),
    "TOO_LARGE",
  );
  assert(oversized.every((b) => b === 0), "the refused chunk was not wiped");
  assert.deepEqual(stats(), before);
});

test("fromStream accepts input of exactly maxSize from a byte stream", async () => {
  const data = sample(100);
  const { stream } = byteStream(data, 30);
  using secret = await SecretBuffer.fromStream(stream, { maxSize: 100 });
  assert(secret.equals(data), "content differs");
});

test("maxSize is exact at every buffer edge, read whole or in steps, from bytes or chunks", async () => {
  const before = stats();
  // 4080 is one page less its canary: the first buffer's size, where the
  // byte past maxSize is the first to need a larger buffer.
  for (const maxSize of [0, 1, 4079, 4080, 4081, 8160, 8161]) {
    for (const step of [maxSize + 1, 1000]) {
      const exact = sample(maxSize);
      const { stream } = byteStream(exact, step);
      using read = await SecretBuffer.fromStream(stream, { maxSize });
      assert(read.equals(exact), `bytes, ${maxSize} in steps of ${step}`);
      const refused = byteStream(sample(maxSize + 1), step);
      await assertRejectsCode(
        () => SecretBuffer.fromStream(refused.stream, { maxSize }),
        "TOO_LARGE",
      );
      assert(refused.seen.cancelled, `not cancelled past ${maxSize}`);
      const over = sample(maxSize + 1);
      const chunks = async function* (data: Uint8Array) {
        for (let at = 0; at < data.length; at += step) {
          yield data.slice(at, at + step);
        }
      };
      using chunked = await SecretBuffer.fromStream(chunks(exact), {
        maxSize,
      });
      assert(chunked.equals(exact), `chunks, ${maxSize} in steps of ${step}`);
      await assertRejectsCode(
        () => SecretBuffer.fromStream(chunks(over), { maxSize }),
        "TOO_LARGE",
      );
    }
  }
  assert.equal(
    stats().liveBuffers,
    before.liveBuffers,
    "a buffer was left mapped",
  );
});

test("fromStream refuses what is not a byte source", async () => {
  await assertRejectsCode(
    () => SecretBuffer.fromStream(42 as unknown as ReadableStream),
    "INVALID_ARGUMENT",
  );
  async function* strings() {
    yield "text";
  }
  await assertRejectsCode(
    () =>
      SecretBuffer.fromStream(
        strings() as unknown as AsyncIterable<Uint8Array>,
      ),
    "INVALID_ARGUMENT",
  );
});

test("a first buffer refused (MEMLOCK_LIMIT) gives the byte stream its lock back", async () => {
  const fake = createFake({ lockRefusals: 99, canRaise: false });
  useNativeForTesting(fake.memory);
  try {
    const { stream } = byteStream(sample(64), 64);
    await assertRejectsCode(
      () => SecretBuffer.fromStream(stream),
      "MEMLOCK_LIMIT",
    );
    assert.equal(stream.locked, false, "the stream is still locked");
    assert.equal(fake.mapped(), 0, "nothing mapped");
  } finally {
    useNativeForTesting(undefined);
  }
});
