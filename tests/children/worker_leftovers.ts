/**
 * Child for tests/hostile_workers_test.ts: Workers that hold secrets and
 * end without destroying them, and what the main thread sees afterwards.
 *
 * Usage: worker_leftovers.ts <mode>
 * - terminate: three Workers each hold 20 buffers (half of them read, so a
 *   view was handed out), a pool of 5 slots and one key whose masked needle
 *   they post; the main thread ends them with `terminate()` (in Deno one
 *   ends itself with `self.close()`), then prints VmLck, the stats, the
 *   number of mappings and how many copies of each key a scan finds,
 *   before and after `stats()` (which must wipe nothing) and `purge()`
 *   (which reclaims what they left).
 * - memlock: a Worker locks most of RLIMIT_MEMLOCK and is terminated; the
 *   main thread then allocates as much again, which only fits once the
 *   Worker's pages are reclaimed (run without CAP_IPC_LOCK: with it, no
 *   limit binds).
 * - maplimit: nine Workers allocate 4,000 buffers each at the same time;
 *   each prints how far it got and which error stopped it; the main thread
 *   then still maps, compiles and allocates.
 * - reclaimer: eight rounds of a Worker holding 1,000 copies of one key,
 *   terminated, then a second Worker that reclaims them (at its first
 *   buffer) and is itself terminated part way; the main thread's `purge()`
 *   must finish the work: no copy of any key left, VmLck where it started.
 * - split: something else holds the table's first address when a Worker
 *   maps the table, and is gone when a second Worker starts: that one must
 *   find the table where it is, not start a second one there.
 * - churn: ten Workers one after another, each reading 500 keys of its
 *   own and then terminated (each new one reclaims the last one's at its
 *   first buffer, the main thread's `purge()` the tenth's): 5,000 ranges
 *   quarantined, and what that costs the process in mappings.
 * - copies: two copies of secmem (the sources copied to a temporary
 *   folder, as two installed packages would be) in one Worker share its
 *   owner word: neither counts the other's buffers as another thread's.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import {
  purge,
  SecretBuffer,
  SecretMemoryError,
  SecretPool,
  stats,
} from "../../mod.ts";
import { needleOf } from "../_forensics.ts";
import { type Needle, scanMemory } from "../../src/doctor/_scan.ts";
import {
  startWorker,
  threadGone as gone,
  threadId,
  workerOrMain,
} from "./_worker.ts";

interface Host {
  Deno?: { args: string[] };
  process: { argv: string[]; exit(code: number): never };
  close?: () => void;
}
const host = globalThis as unknown as Host;

interface Report {
  tid: number;
  needle?: Needle;
  held?: number;
  code?: string;
  lines?: string[];
}

const say = (line: string) => console.log(line);

function lockedKiB(): number {
  const line = readFileSync("/proc/self/status", "utf8").split("\n")
    .find((l) => l.startsWith("VmLck:"));
  return Number(line?.split(/\s+/)[1]);
}

// ---- the Worker side --------------------------------------------------

async function workerMain(job: string, post: (r: Report) => void) {
  const kept: unknown[] = [];
  if (job === "hold" || job === "close") {
    for (let i = 0; i < 20; i++) {
      const buffer = SecretBuffer.random(32);
      if (i % 2 === 0) buffer.read((view) => view[0]);
      kept.push(buffer);
    }
    const pool = new SecretPool();
    for (let i = 0; i < 5; i++) kept.push(pool.random(32));
    const key = SecretBuffer.random(32);
    kept.push(pool, key);
    // Ends itself when told to, once the main thread has looked.
    if (job === "close") {
      (globalThis as unknown as { onmessage: () => void }).onmessage = () =>
        host.close!();
    }
    post({ tid: threadId(), needle: needleOf(key) });
  } else if (job === "holder") {
    const key = SecretBuffer.random(32);
    kept.push(key);
    for (let i = 0; i < 1000; i++) {
      kept.push(SecretBuffer.from(key, { lock: "best-effort" }));
    }
    post({ tid: threadId(), needle: needleOf(key) });
  } else if (job === "churn") {
    // Keys the Worker's own code reads: quarantined when it is ended.
    for (let i = 0; i < 500; i++) {
      const key = SecretBuffer.random(32);
      key.read((view) => view[0]);
      kept.push(key);
    }
    post({ tid: threadId(), held: kept.length });
  } else if (job === "copies") {
    const lines: string[] = [];
    await copies((line) => lines.push(line));
    post({ tid: threadId(), lines });
  } else if (job === "pair") {
    kept.push(SecretBuffer.random(32), SecretBuffer.random(32));
    post({ tid: threadId() });
  } else if (job === "peek") {
    kept.push(SecretBuffer.random(1));
    post({ tid: threadId(), held: stats().otherThreadBuffers });
  } else if (job === "reclaimer") {
    post({ tid: threadId() });
    // Its first buffer reclaims what ended threads left.
    kept.push(SecretBuffer.random(1));
  } else if (job.startsWith("memlock:")) {
    const count = Number(job.slice("memlock:".length));
    for (let i = 0; i < count; i++) kept.push(SecretBuffer.alloc(64));
    post({ tid: threadId(), held: kept.length });
  } else if (job === "maplimit") {
    let code = "none";
    for (let i = 0; i < 4000; i++) {
      try {
        kept.push(SecretBuffer.alloc(16, { lock: "best-effort" }));
      } catch (error) {
        code = error instanceof SecretMemoryError ? error.code : String(error);
        break;
      }
    }
    post({ tid: threadId(), held: kept.length, code });
  }
  (globalThis as { kept?: unknown }).kept = kept;
  // Stays alive until ended from outside.
  setInterval(() => {}, 1000);
  await new Promise(() => {});
}

// ---- the main thread --------------------------------------------------

interface Started {
  report: Promise<Report>;
  end(): Promise<void>;
}

async function start(job: string): Promise<Started> {
  const worker = await startWorker<Report>(import.meta.url, job);
  // In Deno the "close" job ends itself (`self.close()`) when told to.
  const end = job === "close" && host.Deno !== undefined
    ? () => Promise.resolve(worker.send("close"))
    : () => worker.terminate();
  return { report: worker.report, end };
}

async function terminateMode(): Promise<void> {
  // The scan keeps scratch pages of its own: counted before the baseline.
  scanMemory(needleOf(new Uint8Array(32)));
  const lockedBefore = lockedKiB();
  const jobs = host.Deno !== undefined ? ["hold", "hold", "close"] : [
    "hold",
    "hold",
    "hold",
  ];
  const workers = await Promise.all(jobs.map(start));
  const reports = await Promise.all(workers.map((w) => w.report));
  const needles = reports.map((r) => r.needle!);
  const copies = () => needles.map((n) => scanMemory(n).hits.length).join(",");
  const held = stats();
  say(`reach ${held.reach}`);
  say(`other ${held.otherThreadBuffers}`);
  say(`locked grew ${lockedKiB() - lockedBefore}`);
  say(`copies before ${copies()}`);
  for (const worker of workers) await worker.end();
  const ended = await Promise.all(reports.map((r) => gone(r.tid)));
  say(`ended ${ended.every(Boolean)}`);
  // A query wipes nothing.
  say(`reclaimed by stats ${stats().reclaimedBuffers}`);
  say(`copies after stats ${copies()}`);
  say(`purged ${purge().destroyed}`);
  const after = stats();
  say(`reclaimed ${after.reclaimedBuffers}`);
  say(`quarantined ${after.quarantinedBuffers - held.quarantinedBuffers}`);
  say(`other after ${after.otherThreadBuffers}`);
  say(`locked after ${lockedKiB() - lockedBefore}`);
  say(`copies after ${copies()}`);
  say(`again ${purge().destroyed} ${stats().reclaimedBuffers}`);
}

/** Three quarters of RLIMIT_MEMLOCK, in one-page buffers. */
function threeQuartersOfLockLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n")
    .find((l) => l.startsWith("Max locked memory"))!;
  const soft = Number(line.split(/\s+/)[3]);
  return Math.floor((soft * 3) / 4 / 4096);
}

async function memlockMode(): Promise<void> {
  const count = threeQuartersOfLockLimit();
  const worker = await start(`memlock:${count}`);
  const report = await worker.report;
  say(`worker held ${report.held === count}`);
  await worker.end();
  say(`ended ${await gone(report.tid)}`);
  const mine: SecretBuffer[] = [];
  let code = "none";
  try {
    for (let i = 0; i < count; i++) mine.push(SecretBuffer.alloc(64));
  } catch (error) {
    code = error instanceof SecretMemoryError ? error.code : String(error);
  }
  say(`main held ${mine.length === count} ${code}`);
  say(`reclaimed ${stats().reclaimedBuffers === count}`);
  for (const buffer of mine) buffer.destroy();
}

async function mapLimitMode(): Promise<void> {
  const workers = await Promise.all(
    Array.from({ length: 9 }, () => start("maplimit")),
  );
  const reports = await Promise.all(workers.map((w) => w.report));
  const total = reports.reduce((sum, r) => sum + r.held!, 0);
  const codes = [...new Set(reports.map((r) => r.code))].sort().join(",");
  say(`held ${total} codes ${codes}`);
  const junk: unknown[] = [];
  for (let i = 0; i < 2000; i++) junk.push(new ArrayBuffer(65536));
  say(`compiled ${new Function("a", "return a * 2")(21)}`);
  for (const worker of workers) await worker.end();
  await Promise.all(reports.map((r) => gone(r.tid)));
  const again = SecretBuffer.random(32);
  again.destroy();
  say(`after ok ${junk.length} ${stats().reclaimedBuffers}`);
}

async function reclaimerMode(): Promise<void> {
  scanMemory(needleOf(new Uint8Array(32)));
  const lockedBefore = lockedKiB();
  const needles: Needle[] = [];
  for (let round = 0; round < 8; round++) {
    const holder = await start("holder");
    const held = await holder.report;
    needles.push(held.needle!);
    await holder.end();
    await gone(held.tid);
    const reclaimer = await start("reclaimer");
    const started = await reclaimer.report;
    // Ended at a different point of its reclaim each round.
    await new Promise((resolve) => setTimeout(resolve, round));
    await reclaimer.end();
    await gone(started.tid);
  }
  purge();
  const after = stats();
  const left = needles.reduce((sum, n) => sum + scanMemory(n).hits.length, 0);
  say(`copies left ${left}`);
  say(`locked after ${lockedKiB() - lockedBefore}`);
  say(`reclaimed ${after.reclaimedBuffers}`);
  say(`other after ${after.otherThreadBuffers}`);
}

async function churnMode(): Promise<void> {
  const maps = () =>
    readFileSync("/proc/self/maps", "utf8").split("\n").length - 1;
  stats();
  const before = { maps: maps(), quarantined: stats().quarantinedBuffers };
  for (let job = 0; job < 10; job++) {
    const worker = await start("churn");
    const report = await worker.report;
    await worker.end();
    await gone(report.tid);
  }
  purge();
  const after = stats();
  say(`quarantined ${after.quarantinedBuffers - before.quarantined}`);
  say(`maps grew ${maps() - before.maps}`);
  say(`locked ${after.lockedBytes}`);
}

async function splitMode(): Promise<void> {
  const { loadAdapter } = await import("../../ffi/load.ts");
  const { POSIX_FUNCTIONS } = await import("../../ffi/posix.ts");
  const { LINUX, LINUX_LIBC_CANDIDATES } = await import("../../ffi/linux.ts");
  const libc = loadAdapter().open(LINUX_LIBC_CANDIDATES, {
    mmap: POSIX_FUNCTIONS.mmap,
    munmap: POSIX_FUNCTIONS.munmap,
  });
  const first = 0x3e_c000_0000n;
  const flags = LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS |
    LINUX.MAP_FIXED_NOREPLACE;
  say(`occupied ${libc.mmap(first, 4096, 0, flags, -1, 0) === first}`);
  const tables = () =>
    readFileSync("/proc/self/maps", "utf8").split("\n")
      .filter((line) => line.includes("/memfd:secmem-regions")).length;
  // The main thread's secrets need no table (see _process_table.ts): it
  // is the process's first thread, whose end ends the process.
  const mine = [SecretBuffer.random(32), SecretBuffer.random(32)];
  say(`main mapped ${tables()}`);
  say(`main is the first thread ${threadId() === process.pid}`);
  const holder = await start("pair");
  await holder.report;
  libc.munmap(first, 4096);
  const worker = await start("peek");
  const report = await worker.report;
  say(`worker sees ${report.held}`);
  say(`worker is the first thread ${report.tid === process.pid}`);
  say(`tables ${tables()}`);
  await worker.end();
  await holder.end();
  for (const buffer of mine) buffer.destroy();
}

async function copies(say: (line: string) => void): Promise<void> {
  const { cpSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { fileURLToPath, pathToFileURL } = await import("node:url");
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const folder = mkdtempSync(join(tmpdir(), "secmem-copy-"));
  try {
    for (const part of ["mod.ts", "src", "ffi"]) {
      cpSync(join(root, part), join(folder, part), { recursive: true });
    }
    const other = await import(
      pathToFileURL(join(folder, "mod.ts")).href
    ) as typeof import("../../mod.ts");
    const mine = Array.from({ length: 5 }, () => SecretBuffer.random(32));
    const theirs = Array.from(
      { length: 3 },
      () => other.SecretBuffer.random(32),
    );
    say(`distinct ${other.SecretBuffer !== SecretBuffer}`);
    const a = stats();
    const b = other.stats();
    say(`reach ${a.reach} ${b.reach}`);
    say(`live ${a.liveBuffers} ${b.liveBuffers}`);
    say(`other ${a.otherThreadBuffers} ${b.otherThreadBuffers}`);
    other.purge();
    say(`mine after their purge ${mine.every((x) => x.state !== "destroyed")}`);
    say(
      `theirs after their purge ${
        theirs.every((x) => x.state === "destroyed")
      }`,
    );
    for (const buffer of mine) buffer.destroy();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** In a Worker: the main thread enters nothing, so its copies would prove nothing. */
async function copiesMode(): Promise<void> {
  const worker = await start("copies");
  const report = await worker.report;
  for (const line of report.lines ?? []) say(line);
  await worker.end();
}

async function main(): Promise<void> {
  const mode = (host.Deno?.args ?? host.process.argv.slice(2))[0];
  if (mode === "terminate") await terminateMode();
  else if (mode === "memlock") await memlockMode();
  else if (mode === "maplimit") await mapLimitMode();
  else if (mode === "reclaimer") await reclaimerMode();
  else if (mode === "copies") await copiesMode();
  else if (mode === "split") await splitMode();
  else if (mode === "churn") await churnMode();
  else throw new Error(`unknown mode ${mode}`);
  host.process.exit(0);
}

await workerOrMain(
  import.meta.url,
  (job, post) => workerMain(job, post),
  main,
);
