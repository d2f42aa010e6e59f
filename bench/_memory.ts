/**
 * Memory cost of one 32-byte secret, measured from outside the contestant:
 * it prints "ready", the harness reads /proc/PID, it allocates N secrets
 * and prints "held", the harness reads /proc/PID again. The same code
 * measures every contestant.
 *
 * Two views of "pages mapped":
 * - `mapped`: the whole process's address-space growth (VmSize), which
 *   includes the runtime heap that the handles themselves take;
 * - `layout`: the pages of each secret's own mappings, found structurally
 *   in /proc/PID/smaps: every locked VMA (only secrets are locked) plus the
 *   small anonymous no-access or read-only VMAs next to it (guard pages,
 *   libsodium's canary header page), at most two on each side, stopping at
 *   the next locked VMA; two adjacent guard pages that the kernel merged
 *   into one VMA are counted once.
 *
 * @module
 */

import { spawn as spawnChild } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import type { Contestant } from "./_contestants.ts";
import { firstError } from "./_spawn.ts";

interface Vma {
  start: number;
  end: number;
  perms: string;
  anonymous: boolean;
  locked: boolean;
}

interface Snapshot {
  vmas: Vma[];
  status: Map<string, number>;
}

/** Per-secret figures; pages are counted in the kernel's page size. */
export interface MemoryCost {
  layout: number;
  mapped: number;
  resident: number;
  locked: number;
  vmas: number;
}

function parseSmaps(text: string): Vma[] {
  const vmas: Vma[] = [];
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/
      .exec(line);
    if (head !== null) {
      vmas.push({
        start: parseInt(head[1], 16),
        end: parseInt(head[2], 16),
        perms: head[3],
        anonymous: head[4] === "",
        locked: false,
      });
    } else if (line.startsWith("VmFlags:") && vmas.length > 0) {
      vmas[vmas.length - 1].locked = line.split(/\s+/).includes("lo");
    }
  }
  return vmas;
}

function snapshot(pid: number): Snapshot {
  const status = new Map<string, number>();
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (match !== null) status.set(match[1], Number(match[2]) * 1024);
  }
  return {
    vmas: parseSmaps(readFileSync(`/proc/${pid}/smaps`, "utf8")),
    status,
  };
}

/** Bytes in secrets' own mappings (see the module doc). */
function layoutBytes(vmas: Vma[], page: number): number {
  const counted = new Set<number>();
  const fits = (v: Vma) =>
    !v.locked && v.anonymous && v.end - v.start <= 2 * page &&
    (v.perms === "---p" || v.perms === "r--p");
  vmas.forEach((vma, index) => {
    if (!vma.locked) return;
    counted.add(index);
    for (const step of [-1, 1]) {
      let edge = vma;
      for (let hop = 1; hop <= 2; hop++) {
        const next = vmas[index + step * hop];
        const touching = next !== undefined &&
          (step < 0 ? next.end === edge.start : next.start === edge.end);
        if (!touching || !fits(next)) break;
        counted.add(index + step * hop);
        edge = next;
      }
    }
  });
  let bytes = 0;
  for (const index of counted) bytes += vmas[index].end - vmas[index].start;
  return bytes;
}

/** Measures `count` 32-byte secrets held by `contestant`. */
export function measureMemory(
  contestant: Contestant,
  count: number,
  page: number,
): Promise<MemoryCost> {
  const [file, ...args] = [...contestant.command, "memory", String(count)];
  const child = spawnChild(file, args, {
    env: { ...process.env, NO_COLOR: "1", ...contestant.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve, reject) => {
    let before: Snapshot | undefined;
    let pending = "";
    child.stdout.on("data", (chunk) => {
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        try {
          if (line === "ready") {
            before = snapshot(child.pid!);
          } else if (line === "held" && before !== undefined) {
            const after = snapshot(child.pid!);
            const delta = (key: string) =>
              ((after.status.get(key) ?? NaN) -
                (before!.status.get(key) ?? NaN)) / count;
            resolve({
              layout: (layoutBytes(after.vmas, page) -
                layoutBytes(before.vmas, page)) / page / count,
              mapped: delta("VmSize") / page,
              resident: delta("VmRSS") / page,
              locked: delta("VmLck"),
              vmas: (after.vmas.length - before.vmas.length) / count,
            });
          }
        } catch (error) {
          reject(error);
        }
        child.stdin.write("\n");
      }
    });
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0) {
        reject(new Error(`exit status ${status}: ${firstError(stderr)}`));
      }
      reject(new Error("the contestant never printed held"));
    });
  });
}
