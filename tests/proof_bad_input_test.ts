/**
 * Bad input at every entry point, in one table: each row names the call,
 * the input and the error code it must get; after each row, stats() and
 * secmem's mappings are unchanged (nothing left mapped). Every row runs,
 * and every mismatch is listed, before the test fails.
 *
 * @module
 */

import {
  MAX_SIZE,
  SecretBuffer,
  SecretMemoryError,
  type SecretMemoryErrorCode,
  stats,
  timingSafeEqual,
} from "../mod.ts";
import { Enclave } from "../enclave.ts";
import { promptSecret } from "../mod.ts";
import { say, wipeOnForkMappings } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

type Row = [
  entry: string,
  input: string,
  call: () => unknown,
  code: SecretMemoryErrorCode,
];

function rows(live: SecretBuffer, dead: SecretBuffer): Row[] {
  const S = SecretBuffer as Any;
  const fn = () => 0;
  const badSizes: [string, unknown][] = [
    ["-1", -1],
    ["1.5", 1.5],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["MAX_SIZE + 1", MAX_SIZE + 1],
    ["2 ** 53", 2 ** 53],
    ['"32"', "32"],
    ["32n", 32n],
    ["null", null],
    ["undefined", undefined],
    ["true", true],
    ["{ valueOf: () => 32 }", { valueOf: () => 32 }],
    ["new Number(32)", new Number(32)],
    ["[32]", [32]],
    ["Symbol()", Symbol("size")],
  ];
  const badOptions: [string, unknown][] = [
    ["null", null],
    ['"fast"', "fast"],
    ["42", 42],
    ["true", true],
    ['{ lock: "maybe" }', { lock: "maybe" }],
    ["{ lock: true }", { lock: true }],
    ["{ lock: null }", { lock: null }],
    ['{ placement: "middle" }', { placement: "middle" }],
    ["{ placement: 0 }", { placement: 0 }],
    // errors.ts: INVALID_ARGUMENT covers "an unknown option".
    ['{ lok: "best-effort" } (unknown option)', { lok: "best-effort" }],
  ];
  const badBytes: [string, unknown][] = [
    ['"secret"', "secret"],
    ["[1, 2]", [1, 2]],
    ["null", null],
    ["undefined", undefined],
    ["ArrayBuffer", new ArrayBuffer(4)],
    ["Uint16Array", new Uint16Array(2)],
    ["Uint8ClampedArray", new Uint8ClampedArray(4)],
    ["DataView", new DataView(new ArrayBuffer(4))],
    ["{ length: 2, 0: 1, 1: 2 }", { length: 2, 0: 1, 1: 2 }],
  ];
  const badCallbacks: [string, unknown][] = [
    ["42", 42],
    ["undefined", undefined],
    ["null", null],
    ['"fn"', "fn"],
    ["{}", {}],
    ["Promise.resolve()", Promise.resolve()],
  ];
  const badStates: [string, unknown][] = [
    ['"open"', "open"],
    ["undefined", undefined],
    ["null", null],
    ['"destroyed"', "destroyed"],
    ['"NOACCESS"', "NOACCESS"],
    ["1", 1],
  ];
  const forged = Object.create(SecretBuffer.prototype);
  const badOthers: [string, unknown][] = [
    ['"1234"', "1234"],
    ["null", null],
    ["undefined", undefined],
    ["42", 42],
    ["[1, 2, 3, 4]", [1, 2, 3, 4]],
    ["Uint16Array", new Uint16Array(4)],
    ["ArrayBuffer", new ArrayBuffer(4)],
    ["DataView", new DataView(new ArrayBuffer(4))],
    ["{}", {}],
    ["{ size: 4, read() {} } (duck-typed)", { size: 4, read: () => 0 }],
    ["Object.create(SecretBuffer.prototype) (forged)", forged],
    ["new Proxy(buffer, {}) (forged)", new Proxy(live, {})],
  ];

  const table: Row[] = [];
  for (const [input, size] of badSizes) {
    table.push([
      "SecretBuffer.alloc",
      input,
      () => S.alloc(size),
      "INVALID_SIZE",
    ]);
    table.push([
      "SecretBuffer.random",
      input,
      () => S.random(size),
      "INVALID_SIZE",
    ]);
  }
  for (const [input, options] of badOptions) {
    table.push([
      "SecretBuffer.alloc(8, options)",
      input,
      () => S.alloc(8, options),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "SecretBuffer.random(8, options)",
      input,
      () => S.random(8, options),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "SecretBuffer.from(bytes, options)",
      input,
      () => S.from(new Uint8Array(4), options),
      "INVALID_ARGUMENT",
    ]);
  }
  for (
    const [input, wipeSource] of [['"yes"', "yes"], ["null", null], [
      "1",
      1,
    ]] as const
  ) {
    table.push([
      "SecretBuffer.from(bytes, { wipeSource })",
      input,
      () => S.from(new Uint8Array(4), { wipeSource }),
      "INVALID_ARGUMENT",
    ]);
  }
  for (const [input, bytes] of badBytes) {
    table.push([
      "SecretBuffer.from",
      input,
      () => S.from(bytes),
      "INVALID_ARGUMENT",
    ]);
  }
  table.push([
    "new SecretBuffer",
    "(a private token forged)",
    () => new S(Symbol("x"), {}),
    "INVALID_ARGUMENT",
  ]);
  for (const [input, callback] of badCallbacks) {
    table.push([
      "buffer.read",
      input,
      () => live.read(callback as Any),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "buffer.write",
      input,
      () => live.write(callback as Any),
      "INVALID_ARGUMENT",
    ]);
  }
  for (const [input, state] of badStates) {
    table.push([
      "buffer.protect",
      input,
      () => live.protect(state as Any),
      "INVALID_ARGUMENT",
    ]);
  }
  for (const [input, other] of badOthers) {
    table.push([
      "buffer.equals",
      input,
      () => live.equals(other as Any),
      "INVALID_ARGUMENT",
    ]);
  }
  table.push(
    [
      "destroyed.equals",
      "(a live buffer)",
      () => dead.equals(live),
      "DESTROYED",
    ],
    [
      "buffer.equals",
      "(a destroyed buffer)",
      () => live.equals(dead),
      "DESTROYED",
    ],
    ["destroyed.equals", "(itself)", () => dead.equals(dead), "DESTROYED"],
    [
      "destroyed.equals",
      "42 (alive check comes first)",
      () => dead.equals(42 as Any),
      "DESTROYED",
    ],
    ["destroyed.read", "(a function)", () => dead.read(fn), "DESTROYED"],
    [
      "destroyed.read",
      "42 (alive check comes first)",
      () => dead.read(42 as Any),
      "DESTROYED",
    ],
    ["destroyed.write", "(a function)", () => dead.write(fn), "DESTROYED"],
    [
      "destroyed.protect",
      '"readonly"',
      () => dead.protect("readonly"),
      "DESTROYED",
    ],
    [
      "destroyed.protect",
      '"bogus"',
      () => dead.protect("bogus" as Any),
      "DESTROYED",
    ],
    ["destroyed.address", "", () => dead.address, "DESTROYED"],
    ["destroyed.view", "", () => dead.view, "DESTROYED"],
    [
      "timingSafeEqual",
      '("abcd", "wxyz")',
      () => timingSafeEqual("abcd" as Any, "wxyz" as Any),
      "INVALID_ARGUMENT",
    ],
    [
      "timingSafeEqual",
      "(null, bytes)",
      () => timingSafeEqual(null as Any, new Uint8Array(1)),
      "INVALID_ARGUMENT",
    ],
  );
  return table;
}

/** Rows for the input, copy, output and Enclave entry points. */
function moreRows(live: SecretBuffer, dead: SecretBuffer): Row[] {
  const S = SecretBuffer as Any;
  const forged = Object.create(SecretBuffer.prototype);
  const here = new URL(import.meta.url);
  /** Runs `fn` on a fresh buffer and destroys it whatever happens. */
  const fresh = (fn: (buffer: SecretBuffer) => unknown) => () => {
    const buffer = SecretBuffer.alloc(2);
    try {
      return fn(buffer);
    } finally {
      buffer.destroy();
    }
  };
  const sealed = (fn: (enclave: Enclave) => unknown) =>
    fresh((buffer) => {
      const enclave = Enclave.seal(buffer);
      try {
        return fn(enclave);
      } finally {
        enclave.destroy();
      }
    });
  const table: Row[] = [
    [
      "SecretBuffer.from",
      "(forged SecretBuffer)",
      () => S.from(forged),
      "INVALID_ARGUMENT",
    ],
    [
      "SecretBuffer.from",
      "(destroyed SecretBuffer)",
      () => S.from(dead),
      "DESTROYED",
    ],
    [
      "SecretBuffer.from(buffer, options)",
      '{ backend: "x" }',
      () => S.from(live, { backend: "x" }),
      "INVALID_ARGUMENT",
    ],
    [
      "SecretBuffer.alloc(8, options)",
      '{ backend: "x" }',
      () => S.alloc(8, { backend: "x" }),
      "INVALID_ARGUMENT",
    ],
  ];
  for (
    const [input, text] of [["42", 42], ["null", null], ['"zz"', "zz"], [
      '"abc" (odd)',
      "abc",
    ]] as const
  ) {
    table.push([
      "SecretBuffer.fromHex",
      input,
      () => S.fromHex(text),
      "INVALID_ARGUMENT",
    ]);
  }
  table.push([
    "SecretBuffer.fromHex(text, options)",
    "{ lock: 1 }",
    () => S.fromHex("ab", { lock: 1 }),
    "INVALID_ARGUMENT",
  ]);
  for (
    const [input, text] of [["42", 42], ["null", null], [
      '"!!!"',
      "!!!",
    ]] as const
  ) {
    table.push([
      "SecretBuffer.fromBase64",
      input,
      () => S.fromBase64(text),
      "INVALID_ARGUMENT",
    ]);
  }
  for (
    const [input, text] of [["42", 42], ["null", null], [
      "a Uint8Array",
      new Uint8Array(2),
    ]] as const
  ) {
    table.push([
      "SecretBuffer.fromText",
      input,
      () => S.fromText(text),
      "INVALID_ARGUMENT",
    ]);
  }
  for (
    const [input, path] of [["42", 42], ['""', ""], ["null", null]] as const
  ) {
    table.push([
      "SecretBuffer.fromFileSync",
      input,
      () => S.fromFileSync(path),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "SecretBuffer.fromFile",
      input,
      () => S.fromFile(path),
      "INVALID_ARGUMENT",
    ]);
  }
  table.push(
    [
      "SecretBuffer.fromFileSync(path, options)",
      "{ maxSize: -1 }",
      () => S.fromFileSync(here, { maxSize: -1 }),
      "INVALID_SIZE",
    ],
    [
      "SecretBuffer.fromFileSync(path, options)",
      '{ maxSize: "1" }',
      () => S.fromFileSync(here, { maxSize: "1" }),
      "INVALID_SIZE",
    ],
    [
      "SecretBuffer.fromFileSync(path, options)",
      "{ maxSize: 1 }",
      () => S.fromFileSync(here, { maxSize: 1 }),
      "TOO_LARGE",
    ],
    [
      "SecretBuffer.fromFileSync(path, options)",
      "null",
      () => S.fromFileSync(here, null),
      "INVALID_ARGUMENT",
    ],
  );
  for (
    const [input, fd] of [["-1", -1], ['"x"', "x"], ["1.5", 1.5], [
      '{ fd: "x" }',
      { fd: "x" },
    ], ["null", null]] as const
  ) {
    table.push([
      "SecretBuffer.fromFdSync",
      input,
      () => S.fromFdSync(fd),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "SecretBuffer.fromFd",
      input,
      () => S.fromFd(fd),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "buffer.writeToSync",
      input,
      () => live.writeToSync(fd as Any),
      "INVALID_ARGUMENT",
    ]);
    table.push([
      "buffer.writeTo",
      input,
      () => live.writeTo(fd as Any),
      "INVALID_ARGUMENT",
    ]);
  }
  for (
    const [input, stream] of [["42", 42], ["{}", {}], ["null", null], [
      '"text"',
      "text",
    ]] as const
  ) {
    table.push([
      "SecretBuffer.fromStream",
      input,
      () => S.fromStream(stream),
      "INVALID_ARGUMENT",
    ]);
  }
  for (
    const [input, args] of [
      ['"a"', ["a"]],
      ["-1", [-1]],
      ["1.5", [1.5]],
      ["NaN", [NaN]],
      ["(3, 1)", [3, 1]],
      ["(0, 99)", [0, 99]],
      ["(0, 4, null)", [0, 4, null]],
    ] as const
  ) {
    table.push([
      "buffer.slice",
      input,
      () => (live.slice as Any)(...args),
      "INVALID_ARGUMENT",
    ]);
  }
  table.push(
    ["destroyed.slice", "()", () => dead.slice(), "DESTROYED"],
    [
      "buffer.copyTo",
      "(forged SecretBuffer)",
      () => live.copyTo(forged),
      "INVALID_ARGUMENT",
    ],
    [
      "buffer.copyTo",
      "(a Uint8Array)",
      () => live.copyTo(new Uint8Array(8) as Any),
      "INVALID_ARGUMENT",
    ],
    [
      "buffer.copyTo",
      "(a destroyed buffer)",
      () => live.copyTo(dead),
      "DESTROYED",
    ],
    [
      "destroyed.copyTo",
      "(a live buffer)",
      () => dead.copyTo(live),
      "DESTROYED",
    ],
    [
      "buffer.copyTo",
      "(too small a target)",
      fresh((small) => live.copyTo(small)),
      "INVALID_ARGUMENT",
    ],
    [
      "buffer.copyTo(target, offset)",
      "-1",
      fresh((t) => live.copyTo(t, -1)),
      "INVALID_ARGUMENT",
    ],
    [
      "buffer.copyTo(target, offset)",
      '"a"',
      fresh((t) => live.copyTo(t, "a" as Any)),
      "INVALID_ARGUMENT",
    ],
    ["destroyed.writeToSync", "1", () => dead.writeToSync(1), "DESTROYED"],
    ["destroyed.writeTo", "1", () => dead.writeTo(1), "DESTROYED"],
    ["destroyed.backend", "", () => dead.backend, "DESTROYED"],
    ["promptSecret", "42", () => (promptSecret as Any)(42), "INVALID_ARGUMENT"],
    ["Enclave.seal", "42", () => Enclave.seal(42 as Any), "INVALID_ARGUMENT"],
    [
      "Enclave.seal",
      "(forged SecretBuffer)",
      () => Enclave.seal(forged),
      "INVALID_ARGUMENT",
    ],
    [
      "Enclave.seal",
      "(destroyed SecretBuffer)",
      () => Enclave.seal(dead),
      "DESTROYED",
    ],
    [
      "Enclave.seal(buffer, options)",
      "null",
      fresh((b) => Enclave.seal(b, null as Any)),
      "INVALID_ARGUMENT",
    ],
    [
      "Enclave.seal(buffer, options)",
      '{ destroySource: "yes" }',
      fresh((b) => Enclave.seal(b, { destroySource: "yes" as Any })),
      "INVALID_ARGUMENT",
    ],
    [
      "enclave.open",
      '{ lock: "x" }',
      sealed((e) => e.open({ lock: "x" as Any })),
      "INVALID_ARGUMENT",
    ],
    [
      "destroyed enclave.open",
      "()",
      sealed((e) => {
        e.destroy();
        return e.open();
      }),
      "DESTROYED",
    ],
  );
  return table;
}

test(
  "bad input at every entry point gets its error code and leaves nothing mapped",
  async () => {
    const live = SecretBuffer.alloc(4);
    const dead = SecretBuffer.alloc(4);
    dead.destroy();
    // The Enclave keeps its key store once made: make it before counting.
    Enclave.seal(SecretBuffer.alloc(1)).destroy();
    const table = [...rows(live, dead), ...moreRows(live, dead)];
    const entries = new Set(table.map(([entry]) => entry));
    const wrong: string[] = [];
    for (const [entry, input, call, code] of table) {
      const before = stats();
      const mappingsBefore = wipeOnForkMappings();
      let outcome: string;
      let result: unknown;
      try {
        result = await call();
        outcome = `returned ${describe(result)}`;
      } catch (error) {
        outcome = error instanceof SecretMemoryError
          ? error.code
          : `${(error as Error)?.name ?? typeof error}: ${
            (error as Error)?.message ?? error
          }`;
      }
      // A call that wrongly succeeded must not leak the buffer it made.
      if (result instanceof SecretBuffer || result instanceof Enclave) {
        result.destroy();
      }
      const after = stats();
      const mappingsAfter = wipeOnForkMappings();
      if (outcome !== code) {
        wrong.push(`${entry} given ${input}: expected ${code}, got ${outcome}`);
      }
      if (
        JSON.stringify(after) !== JSON.stringify(before) ||
        mappingsAfter !== mappingsBefore
      ) {
        wrong.push(
          `${entry} given ${input}: left something behind (stats ${
            JSON.stringify(before)
          } -> ${JSON.stringify(after)},` +
            ` secmem mappings ${mappingsBefore} -> ${mappingsAfter})`,
        );
      }
    }
    live.destroy();
    say(
      `  ${table.length} bad inputs at ${entries.size} entry points: ${
        table.length - wrong.length
      } as expected` +
        (wrong.length > 0 ? `; ${wrong.length} not:` : ""),
    );
    for (const line of wrong) say(`    ${line}`);
    if (wrong.length > 0) {
      throw new Error(
        `${wrong.length} bad inputs were not refused as documented (listed above)`,
      );
    }
  },
  { skip: linuxOnly },
);

function describe(value: unknown): string {
  if (value instanceof SecretBuffer) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  return typeof value === "object"
    ? Object.prototype.toString.call(value)
    : String(value);
}
