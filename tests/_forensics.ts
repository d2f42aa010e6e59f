/**
 * Helpers for the proof suite: passing a secret from a child to the test
 * without the test ever holding it (hex of the secret XOR a mask, and the
 * mask), finding and measuring core dumps, reading this process's /proc
 * files, running a child under a wrapper command, and printing figures.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type MapEntry,
  parseMaps,
  withScratch,
} from "../src/doctor/_procfs.ts";
import {
  type Needle,
  type ScanResult,
  searchRange,
} from "../src/doctor/_scan.ts";
import { native } from "../src/core/_native.ts";
import { isSecretBuffer, type SecretBuffer } from "../src/secret_buffer.ts";
import { runtime } from "./_harness.ts";
import { TEST_LINUX, testLibc } from "./_test_libc.ts";
import { type ChildResult, runtimeCommand } from "./_child.ts";

/** Prints one line of figures, prefixed by the runtime that ran it. */
export function say(...parts: unknown[]): void {
  console.log(`[${runtime}] ${parts.map(String).join(" ")}`);
}

/** Whether the suite runs in CI, where a test that cannot see must fail. */
export const inCI: boolean = env("CI") === "true";

/** An environment variable, in any runtime. */
export function env(name: string): string | undefined {
  const host = globalThis as unknown as {
    process?: { env: Record<string, string | undefined> };
  };
  return host.process?.env[name];
}

/** Whether `haystack` holds `needle` anywhere. */
export function holds(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

/** Bytes of a hex string. */
export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

/** A needle as text, to cross a process boundary. */
export interface NeedleHex {
  masked: string;
  mask: string;
}

/** Encodes a needle (never the secret itself) for printing. */
export function needleHex(needle: Needle): NeedleHex {
  return { masked: toHex(needle.masked), mask: toHex(needle.mask) };
}

/** Decodes a needle printed by a child. */
export function needleFromHex(text: NeedleHex): Needle {
  return { masked: fromHex(text.masked), mask: fromHex(text.mask) };
}

/** Writes one JSON line to stdout at once (before a crash, say). */
export function emit(value: unknown): void {
  console.log(
    JSON.stringify(value, (_, v) => typeof v === "bigint" ? `${v}` : v),
  );
}

/** The last JSON object a child printed on stdout. */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.split("\n").filter((line) => line.startsWith("{"));
  if (lines.length === 0) {
    throw new Error(
      `the child printed no JSON line; stdout was: ${stdout.slice(0, 2000)}`,
    );
  }
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** A one-line summary of a failed child, for assertion messages. */
export function describeChild(result: ChildResult): string {
  return `status ${result.status}, signal ${result.signal}; stdout: ${
    result.stdout.slice(-1500)
  }; stderr: ${result.stderr.slice(-1500)}`;
}

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `secmem-${prefix}-`));
}

/** Removes a directory and what is in it. */
export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Files in `dir`, with their apparent size and the bytes they occupy. */
export function filesIn(
  dir: string,
): { path: string; size: number; allocated: number }[] {
  return readdirSync(dir).map((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return { path, size: stat.size, allocated: stat.blocks * 512 };
  });
}

/** The kernel's core_pattern. */
export function corePattern(): string {
  return readFileSync("/proc/sys/kernel/core_pattern", "utf8").trim();
}

/**
 * Why kernel core dumps cannot be seen in a test's cwd here, or undefined
 * when they can. A piped pattern sends them to a helper (systemd-coredump,
 * apport); a path sends them elsewhere.
 */
export function coreDumpObstacle(): string | undefined {
  const pattern = corePattern();
  if (pattern.startsWith("|")) {
    return `core_pattern pipes cores to "${pattern}", so this test cannot read them;` +
      " set it with `echo core | sudo tee /proc/sys/kernel/core_pattern`";
  }
  if (pattern.includes("/")) {
    return `core_pattern writes cores to "${pattern}", outside the test's directory;` +
      " set it with `echo core | sudo tee /proc/sys/kernel/core_pattern`";
  }
  return undefined;
}

/** Whether `command` is on the PATH. */
export function which(command: string): string | undefined {
  const result = spawnSync("/bin/sh", ["-c", `command -v ${command}`], {
    encoding: "utf8",
  });
  const path = result.stdout?.trim();
  return result.status === 0 && path ? path : undefined;
}

/** Runs `script` under the current runtime behind a wrapper command. */
export function runWrapped(
  wrapper: readonly string[],
  script: string,
  args: readonly string[] = [],
  timeout = 120_000,
): ChildResult {
  const command = [...wrapper, ...runtimeCommand(script, args)];
  const result = spawnSync(command[0], command.slice(1), {
    encoding: "utf8",
    timeout,
    env: { ...processEnv(), NO_COLOR: "1" },
  });
  if (result.error !== undefined) throw result.error;
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
  };
}

/** A child that keeps running: its pid, its first JSON line, and a kill. */
export interface LiveChild {
  pid: number;
  first: Promise<string>;
  stop(): void;
}

/** Starts `script` under the current runtime without waiting for it. */
export function startChild(
  script: string,
  args: readonly string[] = [],
): LiveChild {
  const command = runtimeCommand(script, args);
  const child = spawn(command[0], command.slice(1), {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...processEnv(), NO_COLOR: "1" },
  });
  let output = "";
  const first = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Uint8Array | string) => {
      output += typeof chunk === "string"
        ? chunk
        : new TextDecoder().decode(chunk);
      const end = output.indexOf("\n");
      if (end >= 0) resolve(output.slice(0, end));
    });
    child.on(
      "exit",
      (code, signal) =>
        reject(
          new Error(`the child ended early: ${code ?? signal}; ${output}`),
        ),
    );
  });
  return {
    pid: child.pid!,
    first,
    stop: () => void child.kill("SIGKILL"),
  };
}

/**
 * Builds a needle on the heap, for the proof suite, which prints needles
 * to hand them across processes and derives new ones from them. Its two
 * halves XOR to the secret and are never wiped: the library's own scans
 * use `sealNeedle`, in guarded pages.
 */
export function needleOf(
  secret: SecretBuffer | Uint8Array,
  length?: number,
): Needle {
  const read = (bytes: Uint8Array): Needle => {
    const size = length ?? bytes.length;
    const mask = new Uint8Array(size);
    // The mask only has to differ from the secret: Math.random avoids
    // leaving the mask in a runtime's CSPRNG state, and needs no FFI.
    for (let i = 0; i < mask.length; i++) {
      mask[i] = 1 + Math.floor(Math.random() * 255);
    }
    const masked = new Uint8Array(size);
    for (let i = 0; i < size; i++) masked[i] = bytes[i] ^ mask[i];
    return { masked, mask };
  };
  return isSecretBuffer(secret) ? secret.read(read) : read(secret);
}

/**
 * Searches a file (a core dump, for example) for each of `needles` in one
 * pass, reading it a chunk at a time into the doctor's guarded scratch
 * memory, as the doctor's own scan does. One result per needle; hits are
 * file offsets. `ranges` (start inclusive, end exclusive) limits the
 * search, for example to a sparse file's data.
 */
export function scanFile(
  needles: readonly Needle[],
  path: string,
  ranges: readonly [number, number][] = [[0, Number.MAX_SAFE_INTEGER]],
): ScanResult[] {
  const memory = native();
  const hits: bigint[][] = needles.map(() => []);
  let bytesScanned = 0;
  const fd = memory.openRead(path);
  try {
    withScratch((scratch) => {
      for (const [start, end] of ranges) {
        bytesScanned += searchRange(
          fd,
          BigInt(start),
          BigInt(end),
          needles,
          scratch,
          (index, offset) => hits[index].push(offset),
        );
      }
    });
  } finally {
    memory.close(fd);
  }
  return hits.map((found) => ({ hits: found, bytesScanned }));
}

/** A /proc file of this process, read with plain file reads. */
export function procText(path: string): string {
  return readFileSync(path, "utf8");
}

/** This process's mappings. */
export function ownMaps(): MapEntry[] {
  return parseMaps(procText("/proc/self/maps"));
}

/** This process's mappings with VmFlags. */
export function ownSmaps(): MapEntry[] {
  return parseMaps(procText("/proc/self/smaps"));
}

/** A numeric /proc/self/status field in bytes (`VmLck`, `VmRSS`). */
export function ownStatus(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    procText("/proc/self/status"),
  );
  return match === null ? NaN : Number(match[1]) * 1024;
}

/**
 * Mappings with the wipe-on-fork flag: secmem's data pages are the only
 * ones the runtimes' own code marks that way besides a fixed few, so their
 * count measures secmem's mappings while the runtime's heap grows freely.
 */
export function wipeOnForkMappings(): number {
  return ownSmaps().filter((entry) => entry.flags.includes("wf")).length;
}

/** Bytes a gcore of `pid` would write: every mapping not marked `dd`. */
export function dumpEstimate(pid: number): number {
  const entries = parseMaps(readFileSync(`/proc/${pid}/smaps`, "utf8"));
  let total = 0;
  for (const entry of entries) {
    if (entry.flags.includes("dd") || entry.path.startsWith("[v")) continue;
    total += Number(entry.end - entry.start);
  }
  return total;
}

/** Bytes as GiB or MiB text. */
export function bytesText(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} B`;
}

function processEnv(): Record<string, string> {
  const host = globalThis as unknown as {
    process: { env: Record<string, string> };
  };
  return { ...host.process.env };
}

/**
 * The ranges of a sparse file that hold data (SEEK_DATA/SEEK_HOLE), each
 * widened by `margin` bytes so a needle that touches a hole is still seen.
 * A kernel core of Bun is about 6 GiB with a few MiB of data; reading its
 * holes takes seconds.
 */
export function dataRanges(path: string, margin = 64): [number, number][] {
  const memory = native();
  const libc = testLibc();
  const fd = memory.openRead(path);
  const ranges: [number, number][] = [];
  try {
    let at = 0;
    for (;;) {
      const start = libc.lseek(fd, at, TEST_LINUX.SEEK_DATA);
      if (start < 0) break; // ENXIO: no data after `at`
      const end = libc.lseek(fd, start, TEST_LINUX.SEEK_HOLE);
      if (end <= start) break;
      const from = Math.max(0, start - margin);
      const last = ranges[ranges.length - 1];
      if (last !== undefined && from <= last[1]) last[1] = end + margin;
      else ranges.push([from, end + margin]);
      at = end;
    }
  } finally {
    memory.close(fd);
  }
  return ranges;
}

/** What a crypto or keys forensics child reports: hits per secret's name. */
export interface CopiesReport {
  /** Copies outside their guarded pages while the secrets are alive. */
  alive: Record<string, number>;
  /** Copies anywhere once they are destroyed. */
  destroyed: Record<string, number>;
  /** Each secret found in its own page while alive (the scan can see it). */
  inOwnPage: Record<string, number>;
  /** A secret's 32-bit words as boxed doubles, alive and destroyed. */
  boxedAlive: Record<string, number>;
  boxedDestroyed: Record<string, number>;
  /** Whether the leak control kept a word as a number. */
  leakedWord: boolean;
  /** Hits of a string kept on the heap: proof that the scan reads it. */
  heapControl: number;
  statsRestored: boolean;
}

/**
 * Asserts a child's report of a clean run: the scan saw the heap and each
 * secret in its own page once, found no copy of any, as bytes or boxed
 * words, alive or destroyed, and nothing stayed mapped.
 */
export function assertNoCopies(report: CopiesReport): void {
  assert(report.heapControl > 0, "the scan sees the heap");
  for (const [name, hits] of Object.entries(report.inOwnPage)) {
    assert.equal(hits, 1, `the scan sees ${name} in its own page`);
  }
  const found = (when: string, hits: Record<string, number>, what: string) => {
    for (const [name, count] of Object.entries(hits)) {
      assert.equal(count, 0, `${when}: ${what.replace("$", name)}`);
    }
  };
  found("alive", report.alive, "copies of $");
  found("destroyed", report.destroyed, "copies of $");
  found("alive", report.boxedAlive, "$'s words as boxed numbers");
  found("destroyed", report.boxedDestroyed, "$'s words as boxed numbers");
  assert(report.statsRestored, "nothing left mapped");
}

/**
 * Asserts the leak control's report: the copy the child kept of `secret`
 * on the heap is found, and the word it kept as a number where the engine
 * boxes one (V8 boxes an unsigned number above 2^31 on its heap;
 * JavaScriptCore keeps every number in the value itself, so Bun has
 * nothing to find).
 */
export function assertLeakFound(report: CopiesReport, secret: string): void {
  assert(report.alive[secret] >= 1, "the kept copy (a GC may have moved it)");
  assert.equal(report.inOwnPage[secret], 1);
  if (report.leakedWord && runtime !== "bun") {
    assert(report.boxedAlive[secret] >= 1, "the kept word, boxed");
  }
}
