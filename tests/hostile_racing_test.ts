/**
 * Adversarial suite, memory that changes while it is read: a Worker
 * changes a SharedArrayBuffer in a tight loop while the entries that read
 * a caller's bytes run hundreds of times (`from`, `pool.from`, `equals`,
 * `timingSafeEqual`, `fromStream` with chunks and with a BYOB reader, the
 * Enclave over such a copy). Each reads a caller's bytes once: a copy holds
 * at every index a value the memory held there, a comparison never calls
 * equal a key that differs where the Worker never writes, and a length
 * that grows under the read is a typed error, never a crash, a RangeError
 * or a copy longer than what was measured. The decoders take strings,
 * which cannot change, and the file and prompt inputs read into guarded
 * pages only, so they have no caller's memory to race.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { describeChild, lastJson, say } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";

interface Tally {
  ok: number;
  codes: Record<string, number>;
  messages?: Record<string, string>;
  other: string[];
  wrong: string[];
  raced?: number;
  answers?: { equal: number; different: number };
}

interface Race {
  job: string;
  rounds: number;
  grewTo: number;
  results: Record<string, Tally>;
}

function race(job: "flip" | "grow" | "resize"): Race {
  const result = runChild(childScript("hostile_racing.ts"), [job], {
    timeout: 300_000,
  });
  assert.equal(result.status, 0, describeChild(result));
  const report = lastJson<Race>(result.stdout);
  for (const [name, tally] of Object.entries(report.results)) {
    say(
      `  ${runtime} ${job} ${name}: ${tally.ok} ok, ${
        JSON.stringify(tally.codes)
      }, ${tally.raced ?? "-"} copies raced${
        tally.answers === undefined
          ? ""
          : `, ${tally.answers.equal} equal / ${tally.answers.different} different`
      }`,
    );
  }
  return report;
}

function assertNeverWrong(report: Race, allowed: readonly string[]): void {
  for (const [name, tally] of Object.entries(report.results)) {
    assert.deepEqual(tally.other, [], `${name} threw something untyped`);
    assert.deepEqual(tally.wrong, [], `${name} gave a wrong answer`);
    let typed = 0;
    for (const [code, count] of Object.entries(tally.codes)) {
      assert(allowed.includes(code), `${name}: ${tally.messages?.[code]}`);
      typed += count;
    }
    assert.equal(
      tally.ok + typed,
      name === "Enclave" ? report.rounds / 10 : report.rounds,
      name,
    );
  }
}

test(
  "bytes flipped by a Worker: every copy holds what the memory held, no comparison is fooled",
  () => {
    const report = race("flip");
    // Nothing here may fail: one read of bytes that change is still bytes
    // the memory held.
    assertNeverWrong(report, []);
    // The race was real: copies caught flipped bytes, and comparisons with
    // the resting state saw them too.
    const raced = Object.values(report.results).reduce(
      (sum, tally) => sum + (tally.raced ?? 0),
      0,
    );
    assert(raced > 0, "no copy caught the Worker's writes");
    const different = [
      "SecretBuffer.equals",
      "SecretSlot.equals",
      "timingSafeEqual",
    ]
      .reduce((sum, name) => sum + report.results[name].answers!.different, 0);
    assert(different > 0, "no comparison caught the Worker's writes");
  },
);

test(
  "views a Worker lengthens while they are read: the bytes measured, or INVALID_ARGUMENT",
  () => {
    const report = race("grow");
    assert(report.grewTo > 8, "the Worker never grew the buffer");
    // INVALID_SIZE: a view measured past a pool slot's 2048 bytes;
    // TOO_LARGE: chunks that the Worker grew past the input's 64 KiB limit
    // while this thread was held up (seen in Bun under load).
    assertNeverWrong(report, ["INVALID_ARGUMENT", "INVALID_SIZE", "TOO_LARGE"]);
    for (const name of ["fromStream, chunks", "fromStream, BYOB"]) {
      const message = report.results[name].messages?.INVALID_ARGUMENT;
      if (message !== undefined) {
        // A BYOB answer the Worker grew before it was measured is longer
        // than the room asked for: refused as a wrong answer, also typed.
        assert.match(
          message,
          /changed length|length changed|at most the bytes asked for/,
        );
      }
    }
  },
);

test(
  "a BYOB answer lengthened after its length was checked: INVALID_ARGUMENT, never a copy past the free space",
  () => {
    // Same thread, no Worker: a microtask resizes the answer's buffer
    // between the check and the copy. Measured twice, the copy ran into
    // the guard page (SIGSEGV).
    const report = race("resize");
    assertNeverWrong(report, ["INVALID_ARGUMENT"]);
    assert.equal(report.results["fromStream, BYOB"].codes.INVALID_ARGUMENT, 20);
  },
);
