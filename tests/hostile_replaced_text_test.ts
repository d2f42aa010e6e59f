/**
 * The /proc reader (ffi/procfs.ts) under text built-ins replaced after
 * import. What it reads decides where the process table is (which this
 * copy then writes to), which threads have ended (their memory is wiped)
 * and what a memory scan looks at: a replacement must not choose it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { native } from "../src/core/_native.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { replacedWhile } from "./_replaced.ts";

const REPLACEMENTS: [string, object, string, unknown][] = [
  [
    "TextDecoder.prototype.decode answering a text of its own",
    TextDecoder.prototype,
    "decode",
    () => "4711 (forged) S 1",
  ],
  [
    "the typed arrays' subarray answering an empty view",
    Object.getPrototypeOf(Uint8Array.prototype),
    "subarray",
    () => new Uint8Array(0),
  ],
];

for (const [what, target, key, value] of REPLACEMENTS) {
  test(`${what}: /proc/self/stat still reads as the kernel wrote it`, () => {
    // Bun's decode cannot be replaced at all: nothing to prove there.
    if (Object.getOwnPropertyDescriptor(target, key)?.configurable === false) {
      return;
    }
    const memory = native();
    const read = memory.procText!;
    const truth = read("/proc/self/stat");
    let text: unknown;
    try {
      text = replacedWhile(target, key, value, () => read("/proc/self/stat"));
    } catch (error) {
      text = error;
    }
    assert.equal(typeof text, "string", String(text));
    // The same process: its parent, group, session and start time (the
    // 4th to 6th and the 22nd fields) do not change between two reads.
    const fields = (line: string) => {
      const after = line.slice(line.lastIndexOf(")") + 2).split(" ");
      return [after[1], after[2], after[3], after[19]];
    };
    assert.deepEqual(fields(text as string), fields(truth));
    assert.ok((text as string).startsWith(`${truth.split(" ")[0]} (`));
  }, { skip: linuxOnly });
}
