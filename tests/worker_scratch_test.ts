/**
 * An ended Worker leaves none of the /proc reader's scratch pages mapped
 * (ffi/procfs.ts): kept between reads, each thread's would stay for the
 * rest of the process, 64 KiB a Worker, holding the last /proc text it
 * read. Counted with strace: 64 KiB
 * anonymous read-write mappings made right after a /proc file was opened
 * and never unmapped, for 2 Workers and for 22.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** 64 KiB anonymous read-write mappings made and not unmapped. */
function leftScratch(dir: string, workers: number): number {
  const out = join(dir, `trace-${workers}`);
  const command = runtimeCommand(childScript("worker_scratch.ts"), [
    String(workers),
  ]);
  const run = runChild("", [], {
    commandOverride: [
      "strace",
      "-f",
      "-qq",
      "-e",
      "trace=openat,mmap,munmap",
      "-o",
      out,
      "--",
      ...command,
    ],
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`workers=${workers}`));
  const live = new Set<string>();
  // The scratch is mapped right after a /proc file is opened, by the same
  // thread: other 64 KiB mappings (the runtimes' own) are left out.
  const openedProc = new Set<string>();
  for (const line of readFileSync(out, "utf8").split("\n")) {
    const thread = line.split(" ")[0];
    const wasProc = openedProc.delete(thread);
    if (/openat\([^,]*, "\/proc\//.test(line)) openedProc.add(thread);
    const made = line.match(
      /mmap\(NULL, 65536, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = (0x[0-9a-f]+)/,
    );
    if (made && wasProc) live.add(made[1]);
    const gone = line.match(/munmap\((0x[0-9a-f]+), 65536\)\s+= 0/);
    if (gone) live.delete(gone[1]);
  }
  return live.size;
}

test(
  "a Worker that made a buffer and ended leaves no 64 KiB scratch mapped",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "secmem-scratch-"));
    try {
      const few = leftScratch(dir, 2);
      const many = leftScratch(dir, 22);
      // 20 more Workers: the same count (the main thread's one scratch).
      assert(
        many - few < 2,
        `20 more Workers left ${
          many - few
        } more 64 KiB mappings (${few} -> ${many})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);
