/**
 * SecretBuffer's behaviour on real mappings: content, scopes, equality,
 * redaction, use after destroy, and bad input.
 *
 * @module
 */

import { MAX_SIZE, SecretBuffer, SecretMemoryError, stats } from "../mod.ts";
import {
  assert,
  assertEquals,
  assertRejectsCode,
  assertThrowsCode,
} from "./_assert.ts";
import { runtime, test } from "./_harness.ts";

test("alloc is zero-filled and rests in noaccess", () => {
  using buffer = SecretBuffer.alloc(100);
  assertEquals(buffer.state, "noaccess");
  assertEquals(buffer.size, 100);
  assert(buffer.read((bytes) => bytes.every((b) => b === 0)));
  assertEquals(buffer.state, "noaccess");
});

test("from copies the bytes and wipes the source unless asked not to", () => {
  const source = new Uint8Array([1, 2, 3, 4, 5]);
  using wiped = SecretBuffer.from(source);
  assertEquals(wiped.read((b) => [...b]), [1, 2, 3, 4, 5]);
  assertEquals([...source], [0, 0, 0, 0, 0]);
  const kept = new Uint8Array([9, 8]);
  using copy = SecretBuffer.from(kept, { wipeSource: false });
  assertEquals([...kept], [9, 8]);
  assertEquals(copy.read((b) => [...b]), [9, 8]);
});

test("random gives distinct, non-constant bytes", () => {
  using a = SecretBuffer.random(64);
  using b = SecretBuffer.random(64);
  assert(!a.equals(b), "two random buffers differ");
  const distinct = a.read((bytes) => new Set(bytes).size);
  assert(distinct > 16, `64 random bytes take many values (got ${distinct})`);
});

test("write then read round-trips; state follows the scope", () => {
  using buffer = SecretBuffer.alloc(3);
  buffer.write((bytes) => {
    assertEquals(buffer.state, "readwrite");
    bytes.set([7, 8, 9]);
  });
  assertEquals(buffer.state, "noaccess");
  buffer.read((bytes) => {
    assertEquals(buffer.state, "readonly");
    assertEquals([...bytes], [7, 8, 9]);
  });
});

test("scopes nest and restore the outer access", () => {
  using buffer = SecretBuffer.alloc(1);
  buffer.write(() => {
    buffer.read(() => assertEquals(buffer.state, "readwrite"));
    assertEquals(buffer.state, "readwrite");
  });
  buffer.read(() => {
    buffer.read(() => assertEquals(buffer.state, "readonly"));
    assertEquals(buffer.state, "readonly");
  });
  assertEquals(buffer.state, "noaccess");
});

test("writing inside a read scope is refused, not upgraded", () => {
  using buffer = SecretBuffer.alloc(1);
  buffer.read(() => {
    assertThrowsCode(() => buffer.write(() => 0), "ACCESS_DENIED");
    assertEquals(buffer.state, "readonly");
  });
  assertEquals(buffer.state, "noaccess");
});

test("a throwing callback still closes the pages", () => {
  using buffer = SecretBuffer.alloc(1);
  let caught: unknown;
  try {
    buffer.write(() => {
      throw new RangeError("boom");
    });
  } catch (error) {
    caught = error;
  }
  assert(
    caught instanceof RangeError,
    "the callback's error reaches the caller unchanged",
  );
  assertEquals(buffer.state, "noaccess");
  buffer.read(() => 0);
});

test("an async scope keeps access until its promise settles, then closes", async () => {
  using buffer = SecretBuffer.alloc(2);
  const pending = buffer.write(async (bytes) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    bytes[0] = 42;
    return "done";
  });
  assertEquals(buffer.state, "readwrite");
  assertEquals(await pending, "done");
  assertEquals(buffer.state, "noaccess");
  assertEquals(buffer.read((b) => b[0]), 42);
  await assertRejectsCode(
    () =>
      buffer.read(async () => {
        await Promise.resolve();
        throw new SecretMemoryError("OS_ERROR", "from the callback");
      }),
    "OS_ERROR",
  );
  assertEquals(buffer.state, "noaccess");
});

test("protect() holds access across calls; view works while open", () => {
  using buffer = SecretBuffer.alloc(2);
  buffer.protect("readwrite");
  assertEquals(buffer.state, "readwrite");
  buffer.view.set([5, 6]);
  buffer.read(() => assertEquals(buffer.state, "readwrite"));
  buffer.protect("readonly");
  assertEquals([...buffer.view], [5, 6]);
  buffer.protect("noaccess");
  assertEquals(buffer.state, "noaccess");
  assertThrowsCode(
    () => buffer.protect("open" as "readonly"),
    "INVALID_ARGUMENT",
  );
});

test("equals compares with buffers and arrays, constant-time by length", () => {
  using a = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  using b = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  using c = SecretBuffer.from(new Uint8Array([1, 2, 4]));
  assert(a.equals(b));
  assert(a.equals(a));
  assert(!a.equals(c));
  assert(a.equals(new Uint8Array([1, 2, 3])));
  assert(!a.equals(new Uint8Array([1, 2])));
  assertEquals(a.state, "noaccess");
  assertThrowsCode(
    () => a.equals("123" as unknown as Uint8Array),
    "INVALID_ARGUMENT",
  );
  c.destroy();
  assertThrowsCode(() => a.equals(c), "DESTROYED");
});

test("size 0 is allowed and behaves like any buffer", () => {
  using empty = SecretBuffer.alloc(0);
  assertEquals(empty.read((b) => b.length), 0);
  assert(empty.equals(new Uint8Array(0)));
  using fromEmpty = SecretBuffer.from(new Uint8Array(0));
  assert(fromEmpty.equals(empty));
});

test("redaction: String, JSON and the runtime's inspect show no content", async () => {
  const marker = [0xde, 0xad, 0xbe, 0xef, 0x13, 0x37];
  using buffer = SecretBuffer.from(new Uint8Array(marker));
  const outputs = [
    String(buffer),
    `${buffer}`,
    JSON.stringify({ buffer }),
    buffer.toString(),
  ];
  const host = globalThis as unknown as {
    Deno?: { inspect(v: unknown): string };
  };
  if (host.Deno !== undefined) {
    outputs.push(
      host.Deno.inspect(buffer),
      host.Deno.inspect({ nested: [buffer] }),
    );
  } else {
    const { inspect } = await import("node:util");
    outputs.push(
      inspect(buffer),
      inspect({ nested: [buffer] }, { depth: 5, showHidden: true }),
    );
  }
  if (runtime === "bun") {
    const bun =
      (globalThis as unknown as { Bun: { inspect(v: unknown): string } }).Bun;
    outputs.push(bun.inspect(buffer), bun.inspect({ nested: [buffer] }));
  }
  for (const text of outputs) {
    assert(
      text.includes("SecretBuffer(6 bytes, noaccess)"),
      `description shown: ${text}`,
    );
    const decimal = marker.join(", ");
    const hex = marker.map((b) => b.toString(16)).join("");
    assert(
      !text.includes(decimal) && !text.toLowerCase().includes(hex),
      `no content in: ${text}`,
    );
  }
  assertEquals(Object.prototype.toString.call(buffer), "[object SecretBuffer]");
});

test("use after destroy: every method throws DESTROYED, kept views are empty", () => {
  const buffer = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  let kept: Uint8Array | undefined;
  buffer.read((bytes) => {
    kept = bytes;
  });
  buffer.destroy();
  assertEquals(kept!.length, 0, "the kept view is detached");
  assertEquals(
    kept![0],
    undefined,
    "reading it gives nothing and does not crash",
  );
  assertEquals(buffer.state, "destroyed");
  assertEquals(buffer.size, 3);
  assertEquals(String(buffer), "SecretBuffer(3 bytes, destroyed)");
  const uses: [string, () => unknown][] = [
    ["read", () => buffer.read(() => 0)],
    ["write", () => buffer.write(() => 0)],
    ["protect", () => buffer.protect("readonly")],
    ["equals", () => buffer.equals(new Uint8Array(3))],
    ["address", () => buffer.address],
    ["view", () => buffer.view],
  ];
  for (const [name, use] of uses) assertThrowsCode(use, "DESTROYED", name);
  buffer.destroy();
  buffer[Symbol.dispose]();
});

test("destroy inside its own scope: the scope ends without touching the range", () => {
  const buffer = SecretBuffer.alloc(8);
  buffer.write((bytes) => {
    buffer.destroy();
    assertEquals(bytes.length, 0);
  });
  assertEquals(buffer.state, "destroyed");
});

test("using destroys at scope end", () => {
  let outer: SecretBuffer | undefined;
  {
    using inner = SecretBuffer.random(8);
    outer = inner;
    assertEquals(outer.state, "noaccess");
  }
  assertEquals(outer.state, "destroyed");
});

test("the constructor is not public", () => {
  const Ctor = SecretBuffer as unknown as new (
    a: unknown,
    b: unknown,
  ) => unknown;
  assertThrowsCode(() => new Ctor(Symbol("fake"), {}), "INVALID_ARGUMENT");
});

const badSizes: [string, unknown][] = [
  ["-1", -1],
  ["1.5", 1.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["2**53", 2 ** 53],
  ["MAX_SIZE + 1", MAX_SIZE + 1],
  ["a string", "32"],
  ["null", null],
  ["undefined", undefined],
  ["a bigint", 32n],
  ["an object", { valueOf: () => 32 }],
];

test("bad sizes are INVALID_SIZE and leave nothing mapped", () => {
  const before = stats();
  for (const [label, size] of badSizes) {
    assertThrowsCode(
      () => SecretBuffer.alloc(size as number),
      "INVALID_SIZE",
      `alloc(${label})`,
    );
    assertThrowsCode(
      () => SecretBuffer.random(size as number),
      "INVALID_SIZE",
      `random(${label})`,
    );
  }
  assertEquals(stats(), before);
});

test("bad options and arguments are INVALID_ARGUMENT and leave nothing mapped", () => {
  const before = stats();
  const cases: [string, () => unknown][] = [
    ["lock", () => SecretBuffer.alloc(8, { lock: "maybe" as "required" })],
    [
      "placement",
      () => SecretBuffer.alloc(8, { placement: "middle" as "end" }),
    ],
    ["options", () => SecretBuffer.alloc(8, "fast" as unknown as undefined)],
    [
      "from(string)",
      () => SecretBuffer.from("secret" as unknown as Uint8Array),
    ],
    ["from(array)", () => SecretBuffer.from([1, 2] as unknown as Uint8Array)],
    ["from(null)", () => SecretBuffer.from(null as unknown as Uint8Array)],
    [
      "wipeSource",
      () =>
        SecretBuffer.from(new Uint8Array(1), {
          wipeSource: "yes" as unknown as boolean,
        }),
    ],
  ];
  for (const [label, call] of cases) {
    assertThrowsCode(call, "INVALID_ARGUMENT", label);
  }
  using buffer = SecretBuffer.alloc(1);
  const after = stats();
  assertThrowsCode(
    () => buffer.read(42 as unknown as () => 0),
    "INVALID_ARGUMENT",
    "read(42)",
  );
  assertThrowsCode(
    () => buffer.write(undefined as unknown as () => 0),
    "INVALID_ARGUMENT",
    "write()",
  );
  assertEquals(buffer.state, "noaccess");
  assertEquals(stats(), after);
  assertEquals(after.liveBuffers, before.liveBuffers + 1);
});

test("error messages never contain the bytes they refused", () => {
  const error = assertThrowsCode(
    () => SecretBuffer.alloc("hunter2" as unknown as number),
    "INVALID_SIZE",
  );
  assert(!error.message.includes("hunter2"), error.message);
});

test("a misspelt option is refused, not silently defaulted", () => {
  const before = stats();
  const error = assertThrowsCode(
    () => SecretBuffer.alloc(8, { lok: "best-effort" } as unknown as undefined),
    "INVALID_ARGUMENT",
  );
  assert(
    error.message.includes('"lok"') && error.message.includes("lock"),
    error.message,
  );
  assertThrowsCode(
    () =>
      SecretBuffer.from(
        new Uint8Array(1),
        { wipesource: false } as unknown as undefined,
      ),
    "INVALID_ARGUMENT",
  );
  assertEquals(stats(), before);
  using kept = SecretBuffer.from(new Uint8Array([1]), {
    wipeSource: false,
    lock: "best-effort",
  });
  assertEquals(kept.size, 1);
});
