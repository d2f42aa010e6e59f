/**
 * `hardenProcess`: what ssh-agent and gpg-agent do at start-up, so that
 * neither a crash nor another process of the same user gets at the
 * secrets through the process itself.
 *
 * @module
 */

import { native, type NativeMemory } from "./_native.ts";
import { enlist, isMember, Sets } from "./_intrinsics.ts";
import { checkChoice, checkOptions, readFailed } from "./_validate.ts";
import { SecretMemoryError } from "./errors.ts";

/** The steps `hardenProcess` knows, one per OS switch. */
export type HardeningStepName = "dumpable" | "coreLimit" | "crashDialog";

/**
 * How one step ended: `done` (changed now), `already` (in place before),
 * `skipped` (the caller asked so), `unsupported` (this OS has no such
 * switch), or `failed` (the OS refused; see `detail`).
 */
export type HardeningStatus =
  | "done"
  | "already"
  | "skipped"
  | "unsupported"
  | "failed";

/** One step's outcome. */
export interface HardeningStep {
  /** How the step ended. */
  status: HardeningStatus;
  /** Why a step is unsupported or failed. */
  detail?: string;
}

/** Options for `hardenProcess`. */
export interface HardenOptions {
  /** Steps to leave out, for example `["coreLimit"]`. */
  skip?: readonly HardeningStepName[];
}

/** The process's state after `hardenProcess`, and what each step did. */
export interface HardenResult {
  /**
   * Linux: whether the process is still dumpable (PR_GET_DUMPABLE);
   * `undefined` where the OS has no such flag.
   */
  dumpable: boolean | undefined;
  /** Linux: RLIMIT_CORE's soft limit in bytes; `undefined` elsewhere. */
  coreLimit: number | undefined;
  /**
   * Windows: whether a crash still shows the Windows Error Reporting
   * dialog; `undefined` elsewhere.
   */
  crashDialog: boolean | undefined;
  /** What each step did. */
  steps: Record<HardeningStepName, HardeningStep>;
  /**
   * Every step this OS supports and the caller did not skip is `done` or
   * `already`, and there was at least one.
   */
  hardened: boolean;
}

const STEP_NAMES: readonly HardeningStepName[] = [
  "dumpable",
  "coreLimit",
  "crashDialog",
];

interface StepRecipe {
  /** Undefined when the OS has no such switch. */
  inPlace: (() => boolean) | undefined;
  apply: () => void;
}

function recipes(memory: NativeMemory): Record<HardeningStepName, StepRecipe> {
  const core = memory.coreLimit;
  return {
    dumpable: {
      inPlace: memory.dumpable && (() => !memory.dumpable!()),
      apply: () => memory.disableDumping!(),
    },
    coreLimit: {
      inPlace: core && (() => {
        const { soft, hard } = core();
        return soft === 0 && hard === 0;
      }),
      // Hard limit too, as ssh-agent does: code running later in the
      // process (or a child) cannot raise it back without privilege.
      apply: () => memory.setCoreLimit!(0),
    },
    crashDialog: {
      inPlace: memory.crashDialog && (() => !memory.crashDialog!()),
      apply: () => memory.disableCrashDialog!(),
    },
  };
}

/**
 * What the process has now, changing nothing (for the doctor); all
 * undefined without a native layer.
 */
export function hardeningState(
  memory: NativeMemory | undefined,
): Omit<HardenResult, "steps" | "hardened"> {
  return {
    dumpable: memory?.dumpable?.(),
    coreLimit: memory?.coreLimit?.().soft,
    crashDialog: memory?.crashDialog?.(),
  };
}

function checkSkip(skip: unknown): Set<HardeningStepName> {
  const skipped = new Sets<HardeningStepName>();
  try {
    if (!Array.isArray(skip)) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot use skip: expected an array of step names",
      );
    }
    // By index, never the array's own (perhaps replaced) methods; a hole
    // reads as undefined and is refused like any other non-name. The
    // length is read once: a Proxy may answer differently each time.
    const length = skip.length;
    for (let i = 0; i < length; i++) {
      enlist(skipped, checkChoice(skip[i], STEP_NAMES, "a step to skip"));
    }
  } catch (cause) {
    throw readFailed("skip", "a plain array of step names", cause);
  }
  return skipped;
}

/**
 * Hardens the process the way ssh-agent and gpg-agent do. On Linux:
 * `prctl(PR_SET_DUMPABLE, 0)`, after which the process leaves no core
 * dump and no other process of the same user can attach with ptrace or
 * open /proc/PID/mem; and RLIMIT_CORE set to 0 (soft and hard). On
 * Windows: the error mode gets SEM_NOGPFAULTERRORBOX, so a crash shows no
 * Windows Error Reporting dialog; Windows has no per-process switch
 * against a debugger of the same user, and the Linux steps report
 * `unsupported`. Elsewhere every step reports `unsupported`; nothing
 * throws for that.
 *
 * The cost, on purpose: no debugger can attach to the process (not even
 * yours, without root), and a crash leaves no core to debug. The process
 * stays that way until it exits; call it once at start-up, before any
 * secret exists. A second call does no harm: its steps report `already`.
 * Being non-dumpable also makes the process's /proc/PID files owned by
 * root, so other tools of the same user (gcore, profilers, monitoring
 * agents) are refused too; the process still reads its own.
 *
 * @param options `skip`: steps to leave out.
 * @returns The state after the call and each step's status.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for an unknown option or
 * step; `FFI_UNAVAILABLE` when the runtime cannot call native code (Deno
 * without `--allow-ffi`).
 *
 * @example Harden at start-up and check what it did
 * ```ts
 * import { hardenProcess } from "@secmem/secmem";
 *
 * const result = hardenProcess();
 * for (const [name, step] of Object.entries(result.steps)) {
 *   if (step.status === "failed") throw new Error(`${name}: ${step.detail}`);
 * }
 * if (hardenProcess().steps.dumpable.status === "done") throw new Error();
 * ```
 */
export function hardenProcess(options?: HardenOptions): HardenResult {
  const { skip = [] } = checkOptions(options, ["skip"]);
  const skipped = checkSkip(skip);
  // No native layer for this OS: every step is unsupported, skipped or not.
  let memory: NativeMemory | undefined;
  let unsupported = "";
  try {
    memory = native();
  } catch (error) {
    if (
      !(error instanceof SecretMemoryError) ||
      error.code !== "UNSUPPORTED_PLATFORM"
    ) throw error;
    unsupported = error.message;
  }
  const all = memory && recipes(memory);
  // No prototype while it is filled: a setter planted on Object.prototype
  // for a step's name would drop the step, and its getter report one.
  const found = { __proto__: null } as unknown as Record<
    HardeningStepName,
    HardeningStep
  >;
  // By index: a replaced array iterator must not leave a step out.
  for (let i = 0; i < STEP_NAMES.length; i++) {
    const name = STEP_NAMES[i];
    const inPlace = all?.[name].inPlace;
    if (all === undefined) {
      found[name] = { status: "unsupported", detail: unsupported };
    } else if (isMember(skipped, name)) {
      found[name] = { status: "skipped" };
    } else if (inPlace === undefined) {
      found[name] = {
        status: "unsupported",
        detail: `${memory!.os} has no such switch`,
      };
    } else {
      found[name] = attempt(inPlace, all[name].apply);
    }
  }
  // By index, as in checkSkip: a replaced `some` or `includes` must not
  // report a process with a failed step as hardened.
  let anyInPlace = false;
  let failed = false;
  for (let i = 0; i < STEP_NAMES.length; i++) {
    const { status } = found[STEP_NAMES[i]];
    if (status === "done" || status === "already") anyInPlace = true;
    if (status === "failed") failed = true;
  }
  return {
    ...hardeningState(memory),
    // Spread: own data properties, which no planted setter intercepts.
    steps: { ...found },
    hardened: anyInPlace && !failed,
  };
}

function attempt(inPlace: () => boolean, apply: () => void): HardeningStep {
  try {
    if (inPlace()) return { status: "already" };
    apply();
    // Read back: a step counts only when the OS shows it in place.
    if (inPlace()) return { status: "done" };
    return {
      status: "failed",
      detail: "the OS accepted it but shows no change",
    };
  } catch (error) {
    return { status: "failed", detail: (error as Error).message };
  }
}
