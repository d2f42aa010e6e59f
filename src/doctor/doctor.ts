/**
 * The doctor: what this machine and runtime actually give a secret, proved
 * by a live self-test rather than assumed.
 *
 * @module
 */

import { capabilities } from "../core/capabilities.ts";
import { hardeningState } from "../core/harden.ts";
import { native } from "../core/_native.ts";
import { lockPolicySettings } from "../core/_policy.ts";
import { stats } from "../core/_registry.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { append, Bytes, listed } from "../core/_intrinsics.ts";
import {
  mappingAround,
  readProcText,
  secmemMappingOverlaps,
} from "./_procfs.ts";
import {
  type Needle,
  scanMemoryAll,
  type ScanResult,
  sealNeedle,
} from "./_scan.ts";
import { SecretBuffer } from "../secret_buffer.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset, nor turn a failed check into a pass
// (a report is walked and filled by index for the same reason), nor have
// a path read that the runtime's permissions refuse.
const BigInt = globalThis.BigInt;
const apply = Reflect.apply;
const startsWith = String.prototype.startsWith;
const noAccess = (perms: string | undefined) =>
  perms !== undefined && apply(startsWith, perms, ["---"]) as boolean;

/** `pass`: holds; `fail`: a required protection is missing; `warn`: a
 * weakness of the machine that secmem cannot fix; `info`: a fact. */
export type CheckStatus = "pass" | "fail" | "warn" | "info";

const STATUSES: readonly unknown[] = ["pass", "fail", "warn", "info"];

/** One line of the report. */
export interface DoctorCheck {
  /** A stable identifier, for machines. */
  id: string;
  /** What was checked, for people. */
  title: string;
  /** The verdict. */
  status: CheckStatus;
  /** What was seen. */
  detail: string;
}

/** The whole report. */
export interface DoctorReport {
  /** True when no required protection failed. */
  ok: boolean;
  /** Every check, in the order run. */
  checks: DoctorCheck[];
}

/**
 * Runs every check: platform facts, limits, and a live self-test of one
 * buffer (smaps flags, guard pages, a memory scan after destroy).
 *
 * @returns The report; `ok` is false when a required protection is missing.
 *
 * @example Fail a deployment check when protections are missing
 * ```ts
 * import { runDoctor } from "@secmem/secmem/doctor";
 *
 * const report = runDoctor();
 * if (!report.ok) console.error("secmem cannot protect secrets here");
 * ```
 */
export function runDoctor(): DoctorReport {
  const checks: DoctorCheck[] = [];
  const add: Add = (id, title, status, detail) => {
    append(checks, { id, title, status, detail });
  };
  let caps;
  try {
    caps = capabilities();
  } catch (error) {
    add("ffi", "Native calls", "fail", (error as Error).message);
    return { ok: false, checks };
  }
  add(
    "runtime",
    "Runtime",
    "info",
    `${caps.runtime} ${caps.runtimeVersion} on ${caps.os} ${caps.arch}, page size ${caps.pageSize}`,
  );
  const { soft, hard } = caps.memlock;
  const limit = (n: number) => (n === Infinity ? "unlimited" : formatBytes(n));
  add(
    "memlock",
    "Locked-memory limit (RLIMIT_MEMLOCK)",
    soft !== Infinity && soft < 1 << 20 ? "warn" : "info",
    `soft ${limit(soft)}, hard ${limit(hard)}, about ${
      soft === Infinity ? "unlimited" : Math.floor(soft / caps.pageSize)
    } one-page buffers${
      hasIpcLock() ? "; CAP_IPC_LOCK held, the limit does not bind" : ""
    }`,
  );
  lockPolicy(add);
  hardening(add);
  if (caps.os === "linux") linuxFacts(add);
  const secret = caps.secretMemory;
  add(
    "secretmem",
    "Secret memory (memfd_secret)",
    secret.available ? "pass" : "info",
    `${secret.detail}${
      secret.available
        ? '; opt in with { backend: "secretmem" } or "auto"'
        : '; buffers use anonymous pages ({ backend: "auto" } falls back)'
    }`,
  );
  selfTest(add, "anonymous");
  workers(add);
  if (secret.available) {
    // The same self-test on secret memory, its lines marked as such. It is
    // opt-in, so a refused allocation (the lock limit) only warns.
    selfTest(
      (id, title, status, detail) =>
        add(
          `secretmem-${id}`,
          `${title} (secretmem)`,
          id === "alloc" && status === "fail" ? "warn" : status,
          detail,
        ),
      "secretmem",
    );
  }
  let ok = true;
  for (let i = 0; i < checks.length; i++) {
    if (checks[i].status === "fail") ok = false;
  }
  return { ok, checks };
}

type Add = (
  id: string,
  title: string,
  status: CheckStatus,
  detail: string,
) => void;

function lockPolicy(add: Add): void {
  let settings;
  try {
    settings = lockPolicySettings();
  } catch (error) {
    add("lock-policy", "Lock policy", "fail", (error as Error).message);
    return;
  }
  const from = settings.source === "default"
    ? "the default"
    : settings.source === "configure"
    ? "set by configure()"
    : "set by SECMEM_LOCK";
  const refused = settings.environmentRefused === undefined
    ? ""
    : `; SECMEM_LOCK was not read: ${settings.environmentRefused}`;
  const { unlockedBuffers, unlockedBytes } = stats();
  add(
    "lock-policy",
    "Lock policy",
    settings.lock === "required" ? "info" : "warn",
    settings.lock === "required"
      ? `required (${from}): a buffer whose pages cannot be locked is refused` +
        ` with MEMLOCK_LIMIT, so no secret is ever swapped out${refused}`
      : `best-effort (${from}): when the lock limit refuses, buffers get` +
        " unlocked pages, which may be swapped (to disk, or to a hibernation" +
        " image) where they outlive destroy; every other protection still" +
        ` applies; unlocked now: ${unlockedBuffers} buffer(s), ${
          formatBytes(unlockedBytes)
        }; raise the limit (docs/containers.md) to lock them${refused}`,
  );
}

/** Whether a terminated Worker's buffers are reached (after the self-test allocated). */
function workers(add: Add): void {
  const { reach, otherThreadBuffers, reclaimedBuffers } = stats();
  add(
    "workers",
    "Workers' buffers",
    reach === "process" ? "pass" : "info",
    reach === "process"
      ? "every thread's buffers are in one process-wide table: a Worker ended" +
        " by terminate() has its buffers wiped by the next thread that" +
        ` allocates past a limit, purges or exits, or by a new Worker; now ${otherThreadBuffers}` +
        ` live in other threads, ${reclaimedBuffers} reclaimed from ended ones`
      : "each thread reaches only its own buffers here (no process-wide table on" +
        " this OS or kernel): destroy a Worker's buffers, or call purge(), in the" +
        " Worker before it ends, or they stay mapped and locked until the process exits",
  );
}

function hardening(add: Add): void {
  const title = "Process hardening (hardenProcess)";
  const { dumpable, coreLimit, crashDialog } = hardeningState(native());
  if (dumpable === undefined && crashDialog === undefined) {
    add("hardening", title, "info", "unsupported on this OS");
    return;
  }
  const seen = [
    dumpable === undefined ? "" : dumpable ? "dumpable" : "not dumpable",
    coreLimit === undefined
      ? ""
      : `RLIMIT_CORE ${coreLimit === Infinity ? "unlimited" : coreLimit}`,
    crashDialog === undefined
      ? ""
      : `crash dialog ${crashDialog ? "on" : "off"}`,
  ].filter(Boolean);
  const hardened = dumpable !== true && crashDialog !== true &&
    (coreLimit === undefined || coreLimit === 0);
  const advice = dumpable !== undefined
    ? "so that a crash leaves no core and no other process of the same user" +
      " can ptrace this one or read its /proc/PID/mem (a debugger cannot" +
      " attach either)"
    : "so that a crash shows no Windows Error Reporting dialog";
  add(
    "hardening",
    title,
    hardened ? "pass" : "info",
    `this process is ${hardened ? "" : "not "}hardened (${seen.join(", ")})${
      hardened ? "" : `; call hardenProcess() at start-up ${advice}`
    }`,
  );
}

function linuxFacts(add: Add): void {
  const denied = new Map<string, string>();
  const read = (path: string) => {
    // The machine's settings are not this process's own state: like any
    // path, they are read only if the runtime lets the program read them.
    const permission = apply(startsWith, path, ["/proc/self/"])
      ? undefined
      : native().readPermission(path);
    if (permission !== undefined && !permission.granted) {
      denied.set(path, permission.flag);
      return undefined;
    }
    try {
      return readProcText(path).trim();
    } catch {
      return undefined;
    }
  };
  const unknown = (path: string) =>
    denied.has(path)
      ? `unknown (the runtime does not let this program read ${path}; run with ${
        denied.get(path)
      } to see it)`
      : "unknown";
  const core = "/proc/sys/kernel/core_pattern";
  const pattern = read(core);
  const coreLimit = /^Max core file size\s+(\S+)/m.exec(
    read("/proc/self/limits") ?? "",
  )?.[1];
  add(
    "core-dumps",
    "Core dumps",
    "info",
    `core_pattern ${
      pattern === undefined ? unknown(core) : JSON.stringify(pattern)
    }, RLIMIT_CORE ${coreLimit ?? "unknown"}; ` +
      "buffers are excluded from dumps by MADV_DONTDUMP",
  );
  const swaps = read("/proc/swaps")?.split("\n").slice(1).filter(Boolean);
  add(
    "swap",
    "Swap",
    "info",
    denied.has("/proc/swaps")
      ? `swap devices ${unknown("/proc/swaps")}`
      : !swaps?.length
      ? "no swap devices"
      : `${swaps.length} swap device(s); locked buffers are never swapped out`,
  );
  const yama = "/proc/sys/kernel/yama/ptrace_scope";
  const ptrace = read(yama);
  const open = ": any process of the same user can read this one's memory";
  add(
    "ptrace",
    "ptrace scope (Yama)",
    !denied.has(yama) && (ptrace ?? "0") === "0" ? "warn" : "info",
    denied.has(yama)
      ? `ptrace_scope ${unknown(yama)}`
      : ptrace === undefined
      ? `Yama is absent${open}`
      : `ptrace_scope ${ptrace}${ptrace === "0" ? open : ""}`,
  );
}

function selfTest(add: Add, backend: "anonymous" | "secretmem"): void {
  let buffer: SecretBuffer;
  try {
    buffer = SecretBuffer.random(32, { backend });
  } catch (error) {
    add("alloc", "Allocate a guarded buffer", "fail", (error as Error).message);
    return;
  }
  add("alloc", "Allocate a guarded buffer", "pass", String(buffer));
  if (native().os !== "linux") {
    buffer.destroy();
    add(
      "self-test",
      "Live self-test",
      "info",
      "reads /proc; runs on Linux only",
    );
    return;
  }
  // Sealed before the buffer goes: the scan after destroy looks for it.
  const needle = sealNeedle(buffer);
  try {
    const { before, at, after } = mappingAround(buffer.address);
    const flags = at?.flags ?? [];
    const flag = (id: string, title: string, name: string) =>
      add(
        id,
        title,
        listed(flags, name) ? "pass" : "fail",
        `VmFlags ${listed(flags, name) ? "has" : "lacks"} "${name}"`,
      );
    flag("locked", "Data pages locked in RAM", "lo");
    flag("dontdump", "Data pages excluded from core dumps", "dd");
    if (
      backend === "anonymous" && native().features.forkProtection === "wipe"
    ) {
      flag("wipeonfork", "Data pages wiped in forked children", "wf");
    } else {
      flag("dontfork", "Data pages left out of forked children", "dc");
    }
    add(
      "rest",
      "Data pages inaccessible at rest",
      noAccess(at?.perms) ? "pass" : "fail",
      `data pages ${at?.perms ?? "not found"}`,
    );
    const guarded = noAccess(before?.perms) && noAccess(after?.perms) &&
      before?.end === at?.start && after?.start === at?.end;
    add(
      "guards",
      "Guard pages before and after",
      guarded ? "pass" : "fail",
      `before ${before?.perms ?? "none"}, after ${after?.perms ?? "none"}`,
    );
    buffer.destroy();
    const gone = at !== undefined && !secmemMappingOverlaps(at.start, at.end);
    add(
      "unmapped",
      "Unmapped at destroy",
      gone ? "pass" : "fail",
      gone ? "the range is no longer mapped" : "the range is still mapped",
    );
    scanCheck(add, needle);
  } finally {
    buffer.destroy();
    needle.dispose();
  }
}

/** Looks for the destroyed secret, beside a heap control that must be seen. */
function scanCheck(add: Add, needle: Needle): void {
  const control = new Bytes(32);
  for (let i = 0; i < control.length; i++) control[i] = (i * 151 + 7) & 0xff;
  const controlNeedle = sealNeedle(control);
  let scan: ScanResult;
  let seen: ScanResult;
  try {
    // One pass for both: the scan costs a second per GiB of resident memory.
    const results = scanMemoryAll([needle, controlNeedle]);
    scan = results[0];
    seen = results[1];
  } finally {
    controlNeedle.dispose();
  }
  const controlHits = seen.hits.length;
  add(
    "scan",
    "No copy of a destroyed secret in process memory",
    scan.hits.length === 0 && controlHits > 0 ? "pass" : "fail",
    `${scan.hits.length} copies in ${
      formatBytes(scan.bytesScanned)
    } of present pages; ` +
      `a heap control was found ${controlHits} time(s)${
        controlHits === 0 ? " (the scan cannot see: result void)" : ""
      }`,
  );
}

function hasIpcLock(): boolean {
  try {
    const text = readProcText("/proc/self/status");
    const effective = /^CapEff:\s+([0-9a-f]+)/m.exec(text)?.[1];
    return effective !== undefined &&
      (BigInt(`0x${effective}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} bytes`;
}

/**
 * The report as a table for people.
 *
 * @param report From `runDoctor`.
 * @returns Lines of text, one per check, and a verdict.
 *
 * @example
 * ```ts
 * import { formatReport, runDoctor } from "@secmem/secmem/doctor";
 *
 * console.log(formatReport(runDoctor()));
 * ```
 */
export function formatReport(report: DoctorReport): string {
  const { ok, checks } = readReport(report);
  // Built by index and by concatenation: a replaced map, join, padEnd or
  // toUpperCase must not print a failed check as PASS, or the wrong
  // verdict.
  let width = 0;
  for (let i = 0; i < checks.length; i++) {
    if (checks[i].title.length > width) width = checks[i].title.length;
  }
  let text = "";
  for (let i = 0; i < checks.length; i++) {
    const { status, title, detail } = checks[i];
    text += `${LABELS[status]}  ${title}${
      spaces(width - title.length)
    }  ${detail}\n`;
  }
  return `${text}\n${
    ok
      ? "secmem: every required protection holds on this machine"
      : "secmem: a required protection is MISSING (see FAIL above)"
  }`;
}

const LABELS: Readonly<Record<CheckStatus, string>> = {
  pass: "PASS",
  fail: "FAIL",
  warn: "WARN",
  info: "INFO",
};

function spaces(count: number): string {
  let text = "";
  for (let i = 0; i < count; i++) text += " ";
  return text;
}

/**
 * A copy of `report` read once, field by field, that is a report: a
 * hand-made or lying one is INVALID_ARGUMENT, never a TypeError from deep
 * inside the formatting (or a trap's own error).
 */
function readReport(report: unknown): DoctorReport {
  const refuse = (cause?: unknown): never => {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot format the report: expected what runDoctor() returned",
      cause === undefined ? undefined : { cause },
    );
  };
  try {
    if (typeof report !== "object" || report === null) refuse();
    const { ok, checks } = report as DoctorReport;
    if (typeof ok !== "boolean" || !Array.isArray(checks)) refuse();
    const copies: DoctorCheck[] = [];
    const count = checks.length;
    for (let i = 0; i < count; i++) {
      const { id, title, status, detail } = checks[i] ?? {};
      if (
        typeof id !== "string" || typeof title !== "string" ||
        typeof detail !== "string" || !listed(STATUSES, status)
      ) refuse();
      append(copies, { id, title, status, detail });
    }
    return { ok, checks: copies };
  } catch (error) {
    if (error instanceof SecretMemoryError) throw error;
    return refuse(error);
  }
}
