/**
 * One table of behaviour every kind of secret must show, whatever holds it:
 * a `SecretBuffer`, or a `SecretSlot` of a pool. A test file describes how
 * to make its kind of secret (a `SecretMaker`) and calls `secretCases`.
 *
 * @module
 */

import { native } from "../src/core/_native.ts";
import assert from "node:assert/strict";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { runtime, test } from "./_harness.ts";

/** What both kinds of secret offer. */
export interface SecretLike {
  readonly size: number;
  readonly state: string;
  readonly address: bigint;
  readonly view: Uint8Array;
  read<T>(fn: (bytes: Uint8Array) => T): T;
  write<T>(fn: (bytes: Uint8Array) => T): T;
  protect(state: "noaccess" | "readonly" | "readwrite"): void;
  // deno-lint-ignore no-explicit-any
  equals(other: any): boolean;
  destroy(): void;
  [Symbol.dispose](): void;
}

/** How to make one kind of secret, and what to expect of it. */
export interface SecretMaker {
  /** Prefix of every test name, for example `SecretSlot (rest noaccess)`. */
  label: string;
  /** The class name in descriptions: `SecretBuffer` or `SecretSlot`. */
  className: string;
  alloc(size: number): SecretLike;
  from(bytes: Uint8Array, options?: { wipeSource?: boolean }): SecretLike;
  random(size: number): SecretLike;
  /** The class, to check that its constructor is not public. */
  ctor: unknown;
  /** Everything that shows what is mapped, to compare before and after. */
  snapshot(): unknown;
  /** The state outside scopes, and inside a read and a write scope. */
  states: { rest: string; read: string; write: string };
  /** Sizes refused with `INVALID_SIZE` beyond the shared ones. */
  extraBadSizes: [string, unknown][];
  /** An address just outside the user bytes, on the canary's side. */
  outside(secret: SecretLike): bigint;
}

/** Sizes no kind of secret accepts. */
export const badSizes: [string, unknown][] = [
  ["-1", -1],
  ["1.5", 1.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["2**53", 2 ** 53],
  ["a string", "32"],
  ["null", null],
  ["undefined", undefined],
  ["a bigint", 32n],
  ["an object", { valueOf: () => 32 }],
];

/** Registers the shared cases for `maker`. */
export function secretCases(maker: SecretMaker): void {
  const { label, states } = maker;
  const named = (name: string) => `${label}: ${name}`;

  test(named("alloc is zero-filled and rests closed"), () => {
    using secret = maker.alloc(100);
    assert.deepEqual(secret.state, states.rest);
    assert.deepEqual(secret.size, 100);
    assert(secret.read((bytes) => bytes.every((b) => b === 0)));
    assert.deepEqual(secret.read((bytes) => bytes.length), 100);
    assert.deepEqual(secret.state, states.rest);
  });

  test(named("from copies and wipes the source unless asked not to"), () => {
    const source = new Uint8Array([1, 2, 3, 4, 5]);
    using wiped = maker.from(source);
    assert.deepEqual(wiped.read((b) => [...b]), [1, 2, 3, 4, 5]);
    assert.deepEqual([...source], [0, 0, 0, 0, 0]);
    const kept = new Uint8Array([9, 8]);
    using copy = maker.from(kept, { wipeSource: false });
    assert.deepEqual([...kept], [9, 8]);
    assert.deepEqual(copy.read((b) => [...b]), [9, 8]);
  });

  test(named("random gives distinct, non-constant bytes"), () => {
    using a = maker.random(64);
    using b = maker.random(64);
    assert(!a.equals(b), "two random secrets differ");
    const distinct = a.read((bytes) => new Set(bytes).size);
    assert(distinct > 16, `64 random bytes take many values (${distinct})`);
  });

  test(named("write then read round-trips; state follows the scope"), () => {
    using secret = maker.alloc(3);
    secret.write((bytes) => {
      assert.deepEqual(secret.state, states.write);
      bytes.set([7, 8, 9]);
    });
    assert.deepEqual(secret.state, states.rest);
    secret.read((bytes) => {
      assert.deepEqual(secret.state, states.read);
      assert.deepEqual([...bytes], [7, 8, 9]);
    });
    assert.deepEqual(secret.state, states.rest);
  });

  test(named("scopes nest; a write inside a read is refused"), () => {
    using secret = maker.alloc(1);
    secret.write(() => {
      secret.read(() => assert.deepEqual(secret.state, states.write));
      assert.deepEqual(secret.state, states.write);
    });
    secret.read(() => {
      assertThrowsCode(() => secret.write(() => 0), "ACCESS_DENIED");
      secret.read(() => assert.deepEqual(secret.state, states.read));
      assert.deepEqual(secret.state, states.read);
    });
    assert.deepEqual(secret.state, states.rest);
  });

  test(named("a throwing callback still closes"), () => {
    using secret = maker.alloc(1);
    let thrown: unknown;
    try {
      secret.write(() => {
        throw new Error("inside");
      });
    } catch (error) {
      thrown = error;
    }
    assert(thrown instanceof Error && thrown.message === "inside");
    assert.deepEqual(secret.state, states.rest);
  });

  test(named("an async scope keeps access until it settles"), async () => {
    using secret = maker.alloc(2);
    const pending = secret.write(async (bytes) => {
      await Promise.resolve();
      bytes.set([3, 4]);
      return 5;
    });
    assert.deepEqual(secret.state, states.write);
    assert.deepEqual(await pending, 5);
    assert.deepEqual(secret.state, states.rest);
    await assertRejectsCode(
      () =>
        secret.read(async () => {
          await Promise.resolve();
          secret.destroy();
          secret.address;
        }),
      "DESTROYED",
    );
  });

  test(named("protect holds access across calls; view works"), () => {
    using secret = maker.alloc(2);
    secret.protect("readwrite");
    assert.deepEqual(secret.state, "readwrite");
    secret.view.set([5, 6]);
    secret.protect("readonly");
    assert.deepEqual([...secret.view], [5, 6]);
    secret.protect("noaccess");
    assert.deepEqual(secret.state, states.rest);
    assertThrowsCode(
      () => secret.protect("open" as "readonly"),
      "INVALID_ARGUMENT",
    );
  });

  test(named("equals compares with its kind and with arrays"), () => {
    using a = maker.from(new Uint8Array([1, 2, 3]));
    using b = maker.from(new Uint8Array([1, 2, 3]));
    using c = maker.from(new Uint8Array([1, 2, 4]));
    assert(a.equals(b));
    assert(a.equals(a));
    assert(!a.equals(c));
    assert(a.equals(new Uint8Array([1, 2, 3])));
    assert(!a.equals(new Uint8Array([1, 2])));
    assert.deepEqual(a.state, states.rest);
    assertThrowsCode(() => a.equals("123"), "INVALID_ARGUMENT");
    c.destroy();
    assertThrowsCode(() => a.equals(c), "DESTROYED");
  });

  test(
    named("redaction: String, JSON and inspect show no content"),
    async () => {
      const marker = [0xde, 0xad, 0xbe, 0xef, 0x13, 0x37];
      using secret = maker.from(new Uint8Array(marker));
      const outputs = [
        String(secret),
        `${secret}`,
        JSON.stringify({ secret }),
        secret.toString(),
      ];
      const host = globalThis as unknown as {
        Deno?: { inspect(v: unknown): string };
      };
      if (host.Deno !== undefined) {
        outputs.push(
          host.Deno.inspect(secret),
          host.Deno.inspect({ nested: [secret] }),
        );
      } else {
        const { inspect } = await import("node:util");
        outputs.push(
          inspect(secret),
          inspect({ nested: [secret] }, { depth: 5, showHidden: true }),
        );
      }
      if (runtime === "bun") {
        const bun = (globalThis as unknown as {
          Bun: { inspect(v: unknown): string };
        }).Bun;
        outputs.push(bun.inspect(secret), bun.inspect({ nested: [secret] }));
      }
      const description = `${maker.className}(6 bytes, ${states.rest})`;
      for (const text of outputs) {
        assert(text.includes(description), `description shown: ${text}`);
        const decimal = marker.join(", ");
        const hex = marker.map((b) => b.toString(16)).join("");
        assert(
          !text.includes(decimal) && !text.toLowerCase().includes(hex),
          `no content in: ${text}`,
        );
      }
      assert.deepEqual(
        Object.prototype.toString.call(secret),
        `[object ${maker.className}]`,
      );
    },
  );

  test(
    named("use after destroy: DESTROYED everywhere, kept views empty"),
    () => {
      const secret = maker.from(new Uint8Array([1, 2, 3]));
      let kept: Uint8Array | undefined;
      secret.read((bytes) => {
        kept = bytes;
      });
      secret.destroy();
      assert.deepEqual(kept!.length, 0, "the kept view is detached");
      assert.deepEqual(kept![0], undefined);
      assert.deepEqual(secret.state, "destroyed");
      assert.deepEqual(secret.size, 3);
      assert.deepEqual(
        String(secret),
        `${maker.className}(3 bytes, destroyed)`,
      );
      const uses: [string, () => unknown][] = [
        ["read", () => secret.read(() => 0)],
        ["write", () => secret.write(() => 0)],
        ["protect", () => secret.protect("readonly")],
        ["equals", () => secret.equals(new Uint8Array(3))],
        ["address", () => secret.address],
        ["view", () => secret.view],
      ];
      for (const [name, use] of uses) assertThrowsCode(use, "DESTROYED", name);
      secret.destroy();
      secret[Symbol.dispose]();
    },
  );

  test(named("destroy inside its own scope ends the scope cleanly"), () => {
    const secret = maker.alloc(8);
    secret.write((bytes) => {
      secret.destroy();
      assert.deepEqual(bytes.length, 0);
    });
    assert.deepEqual(secret.state, "destroyed");
  });

  test(named("using destroys at scope end"), () => {
    let outer: SecretLike | undefined;
    {
      using inner = maker.random(8);
      outer = inner;
      assert.deepEqual(outer.state, states.rest);
    }
    assert.deepEqual(outer.state, "destroyed");
  });

  test(named("the constructor is not public"), () => {
    const Ctor = maker.ctor as new (...args: unknown[]) => unknown;
    assertThrowsCode(() => new Ctor(Symbol("fake"), {}), "INVALID_ARGUMENT");
  });

  test(named("bad sizes are INVALID_SIZE and leave nothing mapped"), () => {
    const before = maker.snapshot();
    for (const [what, size] of [...badSizes, ...maker.extraBadSizes]) {
      assertThrowsCode(
        () => maker.alloc(size as number),
        "INVALID_SIZE",
        `alloc(${what})`,
      );
      assertThrowsCode(
        () => maker.random(size as number),
        "INVALID_SIZE",
        `random(${what})`,
      );
    }
    assert.deepEqual(maker.snapshot(), before);
  });

  test(named("bad arguments are INVALID_ARGUMENT and leave nothing"), () => {
    const before = maker.snapshot();
    const cases: [string, () => unknown][] = [
      ["from(string)", () => maker.from("secret" as unknown as Uint8Array)],
      ["from(array)", () => maker.from([1, 2] as unknown as Uint8Array)],
      ["from(null)", () => maker.from(null as unknown as Uint8Array)],
      [
        "wipeSource",
        () =>
          maker.from(new Uint8Array(1), {
            wipeSource: "yes" as unknown as boolean,
          }),
      ],
    ];
    for (const [what, call] of cases) {
      assertThrowsCode(call, "INVALID_ARGUMENT", what);
    }
    assert.deepEqual(maker.snapshot(), before);
    using secret = maker.alloc(1);
    assertThrowsCode(
      () => secret.read(42 as unknown as () => 0),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => secret.write(undefined as unknown as () => 0),
      "INVALID_ARGUMENT",
    );
    assert.deepEqual(secret.state, states.rest);
  });

  test(named("error messages never contain what they refused"), () => {
    const error = assertThrowsCode(
      () => maker.alloc("hunter2" as unknown as number),
      "INVALID_SIZE",
    );
    assert(!error.message.includes("hunter2"), error.message);
  });

  test(
    named("a canary overwritten natively: CANARY_CORRUPTED, still wiped"),
    () => {
      // A pool keeps an emptied arena for the next slot: one made and freed
      // first, so that run alone the test compares like with like.
      maker.from(new Uint8Array(4)).destroy();
      const before = maker.snapshot();
      const secret = maker.from(new Uint8Array([1, 2, 3, 4]));
      secret.protect("readwrite");
      // Flip one byte right outside the user bytes, as an off-by-one native
      // write would: the flip certainly changes it.
      const outside = new Uint8Array(native().view(maker.outside(secret), 1));
      outside[0] ^= 0xff;
      secret.protect("noaccess");
      assertThrowsCode(() => secret.read(() => 0), "CANARY_CORRUPTED", "open");
      assert.deepEqual(
        secret.state,
        states.rest,
        "closed again after the refusal",
      );
      assertThrowsCode(() => secret.destroy(), "CANARY_CORRUPTED", "destroy");
      assert.deepEqual(secret.state, "destroyed");
      secret.destroy();
      assert.deepEqual(maker.snapshot(), before, "wiped and freed anyway");
    },
  );
}
