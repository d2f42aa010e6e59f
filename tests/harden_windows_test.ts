/**
 * `hardenProcess` on Windows (under Wine here): the crash-dialog step sets
 * SEM_NOGPFAULTERRORBOX, read back through the test's own kernel32
 * binding; the Linux-only steps report `unsupported` without throwing.
 * Bun for Windows already sets that bit at start-up, so the test clears it
 * first (and puts the mode back afterwards).
 *
 * @module
 */

import assert from "node:assert/strict";
import { hardenProcess } from "../mod.ts";
import { loadAdapter } from "../ffi/load.ts";
import { say } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { windowsOnly } from "./_platform.ts";

const SEM_NOGPFAULTERRORBOX = 0x0002;

test(
  "hardenProcess on Windows: the crash dialog goes, the Linux steps are unsupported",
  () => {
    const kernel32 = loadAdapter().open(
      ["kernel32.dll"],
      {
        GetErrorMode: { parameters: [], result: "u32" },
        SetErrorMode: { parameters: ["u32"], result: "u32" },
      } as const,
    );
    const saved = kernel32.GetErrorMode();
    try {
      kernel32.SetErrorMode(saved & ~SEM_NOGPFAULTERRORBOX);
      const first = hardenProcess();
      const after = kernel32.GetErrorMode();
      const second = hardenProcess();
      say(
        `  ${runtime} on Windows: error mode at start 0x${
          saved.toString(16)
        };` +
          ` first call ${JSON.stringify(first.steps)}, mode after 0x${
            after.toString(16)
          }; second call crashDialog ${second.steps.crashDialog.status}`,
      );
      assert.equal(first.steps.crashDialog.status, "done");
      assert.equal(after & SEM_NOGPFAULTERRORBOX, SEM_NOGPFAULTERRORBOX);
      assert.equal(first.crashDialog, false);
      assert.equal(first.steps.dumpable.status, "unsupported");
      assert.equal(first.steps.coreLimit.status, "unsupported");
      assert.equal(first.hardened, true);
      assert.equal(second.steps.crashDialog.status, "already");
    } finally {
      kernel32.SetErrorMode(saved);
    }
  },
  { skip: windowsOnly },
);
