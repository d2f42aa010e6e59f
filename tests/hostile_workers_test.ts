/**
 * Adversarial suite, class 6 (Workers) and class 10 (exhaustion across
 * threads): Workers that end without destroying their secrets, by
 * `terminate()` or Deno's `self.close()`, which run no code of ours. The
 * next thread that purges, exits or allocates past the lock or map limit,
 * and a new Worker at its first buffer, wipes what they left, through the
 * process-wide table of regions (asking for stats wipes nothing); and the map-count headroom is counted for the whole process,
 * so many Workers allocating at once are refused with MAP_LIMIT instead
 * of crashing the runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childScript, runChild } from "./_child.ts";
import { runWrapped, which } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly, mapLimitSkip } from "./_platform.ts";

function worker(mode: string, wrapper?: readonly string[]): string {
  const script = childScript("worker_leftovers.ts");
  const child = wrapper === undefined
    ? runChild(script, [mode], { timeout: 300_000 })
    : runWrapped(wrapper, script, [mode], 300_000);
  assert.equal(
    child.status,
    0,
    `status ${child.status} signal ${child.signal}: ${child.stdout}${child.stderr}`,
  );
  return child.stdout;
}

test(
  "a terminated Worker's secrets are wiped, unlocked and quarantined",
  () => {
    const out = worker("terminate");
    assert(out.includes("reach process"), out);
    // Per Worker: 20 buffers, one pool arena, one key.
    assert(out.includes("other 66\n"), out);
    assert.match(out, /locked grew [1-9]\d*\n/);
    // The scan sees each Worker's key while its pages are still there...
    assert(out.includes("copies before 1,1,1\n"), out);
    assert(out.includes("ended true"), out);
    // Asking wipes nothing: the keys are still there...
    assert(out.includes("reclaimed by stats 0\n"), out);
    assert(out.includes("copies after stats 1,1,1\n"), out);
    // ...until purge() reclaims them.
    assert(out.includes("purged 66\n"), out);
    assert(out.includes("reclaimed 66\n"), out);
    // ...and every range they held is wiped, given back and kept reserved:
    // whether a view over it reached a live thread cannot be known.
    assert(out.includes("quarantined 66\n"), out);
    assert(out.includes("other after 0\n"), out);
    assert(out.includes("locked after 0\n"), out);
    assert(out.includes("copies after 0,0,0\n"), out);
    // Reclaimed once: a second purge finds nothing more.
    assert(out.includes("again 0 66\n"), out);
  },
  { skip: linuxOnly },
);

/** Without CAP_IPC_LOCK (root has it, and then no limit binds), under 8 MiB. */
const UNPRIVILEGED = [
  "setpriv",
  "--inh-caps=-ipc_lock",
  "--bounding-set=-ipc_lock",
  "prlimit",
  `--memlock=${8 << 20}:${8 << 20}`,
  "--",
];

test(
  "locked memory a terminated Worker left is reclaimed when the lock limit is reached",
  () => {
    const out = worker("memlock", UNPRIVILEGED);
    assert(out.includes("worker held true"), out);
    assert(out.includes("ended true"), out);
    assert(out.includes("main held true none"), out);
    assert(out.includes("reclaimed true"), out);
  },
  {
    skip: linuxOnly ||
      (which("setpriv") && which("prlimit")
        ? false
        : "needs setpriv and prlimit (util-linux)"),
  },
);

test(
  "nine Workers allocating at once are refused with MAP_LIMIT, and the runtime goes on",
  () => {
    const out = worker("maplimit");
    assert.match(
      out,
      /held \d+ codes (none,)?MAP_LIMIT|held \d+ codes MAP_LIMIT/,
    );
    assert(!/codes .*(OS_ERROR|Error)/.test(out), out);
    assert(out.includes("compiled 42"), out);
    assert.match(out, /after ok 2000 \d+/);
  },
  { skip: mapLimitSkip },
);

test(
  "a thread ended while it reclaims leaves nothing: the next reclaim finishes its work",
  () => {
    const out = worker("reclaimer");
    assert(out.includes("copies left 0\n"), out);
    assert(out.includes("locked after 0\n"), out);
    // Eight holders of 1,001 buffers each, all reclaimed. A reclaimer
    // ended between counting a region and marking it done lets the next
    // one count it again: at most once per ended reclaimer (seen once in
    // Bun and once in Node: 8,009). The count is a statistic; what must
    // hold is above and below (no copy, nothing locked, nothing left).
    const reclaimed = Number(/reclaimed (\d+)\n/.exec(out)?.[1]);
    assert(reclaimed >= 8008 && reclaimed <= 8008 + 8, out);
    assert(out.includes("other after 0\n"), out);
  },
  { skip: linuxOnly },
);

test(
  "a terminated Worker's buffers made through every library path (inputs, copies, crypto, Enclave, pool) are reclaimed",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "secmem-paths-"));
    const file = join(dir, "key");
    writeFileSync(file, "a key in a file");
    let out: string;
    try {
      const child = runChild(childScript("worker_paths.ts"), [file], {
        timeout: 120_000,
      });
      out = child.stdout;
      assert.equal(
        child.status,
        0,
        `status ${child.status} signal ${child.signal}: ${out}${child.stderr}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert(out.includes("reach process"), out);
    // 17 paths (decoders, from, slice, copyTo's target, the file and
    // stream readers, hkdf, decrypt, scrypt, Enclave.open, and a pool slot
    // in one arena, with the keys and sources they read), the Enclave's
    // two key halves, and the control.
    assert(out.includes("paths 17\n"), out);
    assert(out.includes("entries 20\n"), out);
    // Plus the crypto entry's two work areas of that thread (one for a
    // call, one for the cipher core under the Enclave's own work), an
    // arena each, which its stats do not count as secrets.
    assert(out.includes("other 22\n"), out);
    assert(out.includes("ended true"), out);
    assert(out.includes("reclaimed 22\n"), out);
    // Every range an ended thread held is kept reserved: whether a view
    // over it reached a live thread cannot be known once it is gone.
    assert(out.includes("quarantined 22\n"), out);
    assert(out.includes("other after 0\n"), out);
  },
  { skip: linuxOnly },
);

test(
  "two copies of secmem in one thread share its owner word and keep to their own buffers",
  () => {
    const out = worker("copies");
    assert(out.includes("distinct true"), out);
    assert(out.includes("reach process process"), out);
    assert(out.includes("live 5 3"), out);
    // Neither counts the other's buffers as another thread's.
    assert(out.includes("other 0 0"), out);
    assert(out.includes("mine after their purge true"), out);
    assert(out.includes("theirs after their purge true"), out);
  },
  { skip: linuxOnly },
);

test(
  "a Worker finds the table where it is, even where an earlier address became free; the main thread maps none for its secrets",
  () => {
    const out = worker("split");
    assert(out.includes("occupied true"), out);
    // The main thread of each runtime is the process's first thread (its
    // end ends the process), and maps no table for its own secrets; a
    // Worker runs in a thread of its own, and enters its buffers.
    assert(out.includes("main mapped 0\n"), out);
    assert(out.includes("main is the first thread true\n"), out);
    assert(out.includes("worker is the first thread false\n"), out);
    // The first Worker's two buffers, seen from the second's secmem.
    assert(out.includes("worker sees 2\n"), out);
    assert(out.includes("tables 1\n"), out);
  },
  { skip: linuxOnly },
);

test(
  "quarantined ranges of ended Workers cost address space, not mappings: Worker after Worker never reaches MAP_LIMIT",
  () => {
    const out = worker("churn");
    assert(out.includes("quarantined 5000\n"), out);
    // Each range is given back as a reservation that merges with its guard
    // pages and its neighbours: 5,000 ranges, a few dozen mappings at most.
    const grew = Number(out.match(/maps grew (-?\d+)/)?.[1]);
    assert(grew < 200, out);
    assert(out.includes("locked 0\n"), out);
  },
  { skip: linuxOnly },
);
