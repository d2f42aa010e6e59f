/**
 * Review R8: the forensics entry, the doctor and the input wing against a
 * program that replaces built-ins after importing secmem, or hands it
 * values that lie. Each test states the claim it checks; each was first
 * seen to fail (or to hold) against the code it names.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SecretBuffer, SecretMemoryError, stats } from "../mod.ts";
import { findCopies } from "../forensics.ts";
import { formatReport, runDoctor } from "../doctor.ts";
import {
  native,
  type NativeMemory,
  useNativeForTesting,
} from "../src/core/_native.ts";
import { resetLockPolicyForTesting } from "../src/core/_policy.ts";
import { test } from "./_harness.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { linuxOnly } from "./_platform.ts";
import { childScript, runtimeCommand } from "./_child.ts";
import { onTerminal, ptyOnly } from "./_tools.ts";

interface Replacement {
  name: string;
  target: object;
  key: PropertyKey;
  value: unknown;
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);

// Each answers the way that hides a copy, or a missing protection.
const REPLACEMENTS: Replacement[] = [
  {
    name: "Array.prototype.some answering true",
    target: Array.prototype,
    key: "some",
    value: () => true,
  },
  {
    name: "Array.prototype.every answering true",
    target: Array.prototype,
    key: "every",
    value: () => true,
  },
  {
    name: "Array.prototype.push keeping nothing",
    target: Array.prototype,
    key: "push",
    value: () => 0,
  },
  {
    name: "Array.prototype.forEach calling nothing",
    target: Array.prototype,
    key: "forEach",
    value: () => {},
  },
  {
    name: "Array.prototype.map answering []",
    target: Array.prototype,
    key: "map",
    value: () => [],
  },
  {
    name: "Array.prototype.includes answering true",
    target: Array.prototype,
    key: "includes",
    value: () => true,
  },
  {
    name: "Array.prototype[Symbol.iterator] yielding nothing",
    target: Array.prototype,
    key: Symbol.iterator,
    value: function* () {},
  },
  {
    name: "%TypedArray%.prototype.indexOf finding nothing",
    target: TypedArrayPrototype,
    key: "indexOf",
    value: () => -1,
  },
  {
    name: "%TypedArray%.prototype.subarray answering an empty view",
    target: TypedArrayPrototype,
    key: "subarray",
    value: () => new Uint8Array(0),
  },
  {
    name: "Set.prototype.has answering true",
    target: Set.prototype,
    key: "has",
    value: () => true,
  },
  {
    name: "Math.min answering 0",
    target: Math,
    key: "min",
    value: () => 0,
  },
  {
    name: "String.prototype.split answering []",
    target: String.prototype,
    key: "split",
    value: () => [],
  },
  {
    name: "String.prototype.startsWith answering true",
    target: String.prototype,
    key: "startsWith",
    value: () => true,
  },
  {
    name: "RegExp.prototype.exec matching nothing",
    target: RegExp.prototype,
    key: "exec",
    value: () => null,
  },
];

/**
 * What `fn` returned, or threw, while `replacement` stood. Nothing else
 * runs under it: the assertions that follow would use it too.
 */
function under<T>(
  replacement: Replacement,
  fn: () => T,
): T | { threw: unknown } {
  const { target, key, value } = replacement;
  const saved = Object.getOwnPropertyDescriptor(target, key)!;
  Object.defineProperty(target, key, { ...saved, value });
  try {
    return fn();
  } catch (threw) {
    return { threw };
  } finally {
    Object.defineProperty(target, key, saved);
  }
}

for (const replacement of REPLACEMENTS) {
  test(
    `findCopies under ${replacement.name}: the heap copy is still found (a forensic tool must not answer "no copies" when there is one)`,
    () => {
      using key = SecretBuffer.random(32);
      // A copy over its own ArrayBuffer, which no runtime's GC moves.
      const copy = new Uint8Array(new ArrayBuffer(32));
      key.read((bytes) => copy.set(bytes));
      try {
        const seen = findCopies(key);
        assert(seen.copies >= 1, `control: found ${seen.copies}`);
        const outcome = under(replacement, () => findCopies(key).copies);
        // A refusal would be honest; a number must count the copy.
        if (typeof outcome === "number") {
          assert(outcome >= 1, `found ${outcome} copies of a live heap copy`);
        }
      } finally {
        copy.fill(0);
      }
    },
    { skip: linuxOnly },
  );
}

/**
 * The real native layer, except that /proc/self/maps and smaps read as
 * empty: the doctor's self-test then sees no flags, no guard pages and
 * nothing to scan, so its lines for those must fail.
 */
function blindMachine(real: NativeMemory): NativeMemory {
  return Object.create(real, {
    procText: {
      value: (path: string) =>
        path === "/proc/self/maps" || path === "/proc/self/smaps"
          ? ""
          : real.procText!(path),
    },
  });
}

for (const replacement of REPLACEMENTS) {
  test(
    `runDoctor under ${replacement.name}: a protection that is missing is not reported present, and the report is not ok`,
    () => {
      const real = native();
      useNativeForTesting(blindMachine(real));
      try {
        const honest = runDoctor();
        const failing = honest.checks.filter((c) => c.status === "fail")
          .map((c) => c.id);
        assert.equal(honest.ok, false, "control: the blind machine fails");
        for (
          const id of ["locked", "dontdump", "wipeonfork", "rest", "scan"]
        ) {
          assert(failing.includes(id), `control: ${id} fails`);
        }
        const outcome = under(replacement, () => {
          const report = runDoctor();
          // Read under the replacement too: what a caller then sees.
          const statuses: Record<string, string> = {};
          for (let i = 0; i < report.checks.length; i++) {
            statuses[report.checks[i].id] = report.checks[i].status;
          }
          return { ok: report.ok, statuses };
        });
        if ("threw" in outcome) return;
        assert.equal(outcome.ok, false, "the report says ok");
        for (let i = 0; i < failing.length; i++) {
          const status: string | undefined = outcome.statuses[failing[i]];
          assert(
            status === undefined || status === "fail",
            `${failing[i]} is reported ${status}`,
          );
        }
      } finally {
        useNativeForTesting(real);
      }
    },
    { skip: linuxOnly },
  );
}

test(
  "runDoctor under Array.prototype.every answering true: an unknown SECMEM_LOCK still fails the report (real machine)",
  () => {
    const saved = process.env.SECMEM_LOCK;
    process.env.SECMEM_LOCK = "lax";
    resetLockPolicyForTesting();
    try {
      assert.equal(runDoctor().ok, false, "control");
      const outcome = under(REPLACEMENTS[1], () => runDoctor().ok);
      assert.notEqual(outcome, true, "the report says ok");
    } finally {
      if (saved === undefined) delete process.env.SECMEM_LOCK;
      else process.env.SECMEM_LOCK = saved;
      resetLockPolicyForTesting();
    }
  },
  { skip: linuxOnly },
);

test(
  "findCopies on a machine whose /proc/self/maps reads as empty: OS_ERROR (the scan cannot see), never 0 copies",
  () => {
    using key = SecretBuffer.random(32);
    const copy = new Uint8Array(new ArrayBuffer(32));
    key.read((bytes) => copy.set(bytes));
    const real = native();
    useNativeForTesting(blindMachine(real));
    try {
      assertThrowsCode(() => findCopies(key), "OS_ERROR");
    } finally {
      useNativeForTesting(real);
      copy.fill(0);
    }
    assert.equal(findCopies(key).copies, 0, "the wiped copy is gone");
  },
  { skip: linuxOnly },
);

test(
  "fromFile under String.prototype.includes or RegExp.prototype.test replaced: a path with a NUL, or a file: URL with %2F, is still INVALID_ARGUMENT and no file is read",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "secmem-r8-"));
    try {
      // What the path would name once cut at the NUL, or once %2F is
      // decoded: a file that must not be read.
      writeFileSync(join(dir, "key"), "not this file");
      mkdirSync(join(dir, "a"));
      writeFileSync(join(dir, "a", "b"), "nor this one");
      const nul = join(dir, "key\0.pub");
      const slash = new URL(`${pathToFileURL(dir).href}/a%2Fb`);
      const cases: [Replacement, string | URL][] = [
        [{
          name: "includes",
          target: String.prototype,
          key: "includes",
          value: () => false,
        }, nul],
        [{
          name: "test",
          target: RegExp.prototype,
          key: "test",
          value: () => false,
        }, slash],
      ];
      for (const [replacement, path] of cases) {
        const before = stats().liveBuffers;
        for (const read of [SecretBuffer.fromFile, SecretBuffer.fromFileSync]) {
          const outcome: SecretBuffer | Promise<SecretBuffer> | {
            threw: unknown;
          } = under(replacement, () => read(path));
          let result: unknown;
          try {
            result = "threw" in outcome ? outcome.threw : await outcome;
          } catch (error) {
            result = error;
          }
          if (result instanceof SecretBuffer) result.destroy();
          assert(
            result instanceof SecretMemoryError &&
              result.code === "INVALID_ARGUMENT",
            `${replacement.name} replaced: ${String(path)} gave ${
              String(result)
            }`,
          );
        }
        assert.equal(stats().liveBuffers, before, "nothing left mapped");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);

/**
 * A stream whose BYOB reader answers with a view over a resizable buffer
 * of its own, and shrinks that buffer (or transfers it away) `ticks`
 * microtasks after answering:
 * somewhere between the count being measured and the bytes being copied.
 */
function shrinkingStream(
  ticks: number,
  buffer: ArrayBuffer,
  shrink: (buffer: ArrayBuffer) => void,
): ReadableStream {
  let reads = 0;
  const reader = {
    read() {
      if (reads++ > 0) return Promise.resolve({ done: true, value: undefined });
      let later = Promise.resolve();
      for (let i = 0; i < ticks; i++) later = later.then(() => {});
      later.then(() => shrink(buffer));
      return Promise.resolve({ done: false, value: new Uint8Array(buffer) });
    },
    cancel: () => Promise.resolve(),
    releaseLock() {},
  };
  // Passes `instanceof ReadableStream`, as a subclass's instance would.
  return Object.setPrototypeOf(
    { getReader: () => reader },
    ReadableStream.prototype,
  );
}

test(
  "fromStream: a BYOB answer over a resizable buffer shrunk, or a buffer transferred away, after it was measured is refused (INVALID_ARGUMENT), never kept as bytes the stream never gave",
  async () => {
    const ways: ((buffer: ArrayBuffer) => void)[] = [
      (buffer) => buffer.resize(4),
      (buffer) => void buffer.transfer(),
    ];
    for (let attempt = 0; attempt < 12; attempt++) {
      const ticks = attempt >> 1;
      const shrink = ways[attempt & 1];
      const buffer = new ArrayBuffer(16, { maxByteLength: 64 });
      new Uint8Array(buffer).fill(0x41);
      const before = stats().liveBuffers;
      let result: unknown;
      try {
        result = await SecretBuffer.fromStream(
          shrinkingStream(ticks, buffer, shrink),
        );
      } catch (error) {
        result = error;
      }
      if (result instanceof SecretBuffer) {
        // Whatever was kept is what the stream gave: 0x41 bytes only.
        const bytes = result.read((view) => Array.from(view));
        result.destroy();
        assert.deepEqual(
          bytes,
          new Array(bytes.length).fill(0x41),
          `${ticks} ticks: kept ${bytes.length} bytes, some never given`,
        );
      } else {
        assert(
          result instanceof SecretMemoryError &&
            result.code === "INVALID_ARGUMENT",
          `${ticks} ticks: ${String(result)}`,
        );
      }
      assert.equal(stats().liveBuffers, before, "nothing left mapped");
    }
  },
);

const FORMAT_REPLACEMENTS: Replacement[] = [
  {
    name: "String.prototype.toUpperCase answering PASS",
    target: String.prototype,
    key: "toUpperCase",
    value: () => "PASS",
  },
  {
    name: "Array.prototype.join answering all is well",
    target: Array.prototype,
    key: "join",
    value: () => "secmem: every required protection holds on this machine",
  },
  {
    name: "Array.prototype.map answering []",
    target: Array.prototype,
    key: "map",
    value: () => [],
  },
  {
    name: "String.prototype.padEnd answering PASS",
    target: String.prototype,
    key: "padEnd",
    value: () => "PASS",
  },
];

for (const replacement of FORMAT_REPLACEMENTS) {
  test(
    `formatReport under ${replacement.name}: a failed check is still printed FAIL, and the verdict MISSING`,
    () => {
      const report = {
        ok: false,
        checks: [{
          id: "locked",
          title: "Data pages locked in RAM",
          status: "fail" as const,
          detail: 'VmFlags lacks "lo"',
        }],
      };
      const outcome = under(replacement, () => formatReport(report));
      if (typeof outcome !== "string") return;
      assert.match(outcome, /^FAIL {2}Data pages locked in RAM {2}VmFlags/m);
      assert.match(outcome, /a required protection is MISSING/);
      assert.doesNotMatch(outcome, /every required protection holds/);
    },
  );
}

test(
  "runDoctor under String.prototype.startsWith answering true: a machine file the runtime does not let the program read is still not read",
  () => {
    const real = native();
    const refused = "/proc/sys/kernel/core_pattern";
    const read: string[] = [];
    useNativeForTesting(Object.create(real, {
      readPermission: {
        value: (path: string) =>
          path === refused
            ? { granted: false, flag: `--allow-read=${refused}` }
            : real.readPermission(path),
      },
      procText: {
        value: (path: string) => {
          read[read.length] = path;
          return real.procText!(path);
        },
      },
    }));
    try {
      const outcome = under(REPLACEMENTS[12], () => runDoctor());
      assert(!("threw" in outcome), "the doctor ran");
      assert(!read.includes(refused), `read ${refused} without permission`);
    } finally {
      useNativeForTesting(real);
    }
  },
  { skip: linuxOnly },
);

test(
  "promptSecret under a Function.prototype.call replaced after import (forwarding all but the terminal control): the passphrase is not echoed",
  () => {
    const command = runtimeCommand(childScript("r8_prompt_call.ts"));
    const run = onTerminal([["Passphrase: ", "hunter22\r"]], command);
    assert.equal(run.status, 0, run.shown);
    assert(run.shown.includes("size 8\n"), run.shown);
    assert(!run.shown.includes("hunter22"), `echoed: ${run.shown}`);
  },
  { skip: ptyOnly },
);

for (const [key, value] of [["min", () => 0], ["max", () => 0]] as const) {
  test(
    `fromFileSync and fromStream under Math.${key} answering 0: a 6,400-byte input is read whole, not refused as longer than maxSize`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "secmem-r8-"));
      const text = "0123456789abcdef".repeat(400);
      try {
        const path = join(dir, "input");
        writeFileSync(path, text);
        const replacement = { name: key, target: Math, key, value };
        const reads: [string, () => unknown][] = [
          ["fromFileSync", () => SecretBuffer.fromFileSync(path)],
          [
            "fromStream",
            () => SecretBuffer.fromStream(new Blob([text]).stream()),
          ],
        ];
        for (const [name, read] of reads) {
          const outcome = under(replacement, read);
          let result: unknown;
          try {
            result = typeof outcome === "object" && outcome !== null &&
                "threw" in outcome
              ? outcome.threw
              : await outcome;
          } catch (error) {
            result = error;
          }
          assert(result instanceof SecretBuffer, `${name}: ${String(result)}`);
          const same = result.read((view) =>
            new TextDecoder().decode(view) === text
          );
          result.destroy();
          assert(same, `${name}: the bytes read are the file's`);
        }
      } finally {
        // Best effort: Bun under Wine fails this removal with EFAULT.
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          // The directory is under the OS's temporary directory.
        }
      }
    },
  );
}
