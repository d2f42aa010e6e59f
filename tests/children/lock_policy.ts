/**
 * Child for the lock-policy proof, run without CAP_IPC_LOCK under a 64 KiB
 * RLIMIT_MEMLOCK: makes 100 one-page buffers (far past the limit), then
 * takes every allocation path once more, and prints what each gave as one
 * JSON line. `configure` as the first argument calls
 * `configure({ lock: "best-effort" })` first; the environment
 * (`SECMEM_LOCK`) is the parent's to set.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import {
  configure,
  SecretBuffer,
  SecretMemoryError,
  SecretPool,
  stats,
} from "../../mod.ts";
import { Enclave } from "../../enclave.ts";
import { emit, ownStatus } from "../_forensics.ts";

/** VmLck, or -1 where Deno's permissions (`--deny-env`) hide /proc/self. */
function vmLck(): number {
  try {
    return ownStatus("VmLck");
  } catch {
    return -1;
  }
}

/** What one allocation path gave. */
export interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  /** Unlocked buffers added by the path (from `stats()`). */
  unlocked?: number;
  /**
   * For the pool: its unlocked bytes; for the enclave: the unlocked buffers
   * while it is open after a round trip that gave the bytes back (-1 if not).
   */
  detail?: number;
}

function codeOf(error: unknown): Outcome {
  if (error instanceof SecretMemoryError) {
    return { ok: false, code: error.code, message: error.message };
  }
  return { ok: false, code: "NOT_SECMEM", message: String(error) };
}

const kept: { destroy(): void }[] = [];

async function attempt(
  make: () => unknown,
): Promise<Outcome> {
  const before = stats().unlockedBuffers;
  try {
    const made = await make();
    if (typeof made === "object" && made !== null && "destroy" in made) {
      kept.push(made as { destroy(): void });
      return { ok: true, unlocked: stats().unlockedBuffers - before };
    }
    return {
      ok: true,
      unlocked: stats().unlockedBuffers - before,
      detail: made as number,
    };
  } catch (error) {
    return codeOf(error);
  }
}

let settings: unknown;
try {
  settings = childArgs().includes("configure")
    ? configure({ lock: "best-effort" })
    : configure();
} catch (error) {
  settings = codeOf(error);
}

function childArgs(): string[] {
  const host = globalThis as unknown as {
    Deno?: { args: string[] };
    process?: { argv: string[] };
  };
  return host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
}

const lockedAtStart = vmLck();
const buffers: SecretBuffer[] = [];
let fillError: Outcome | undefined;
for (let i = 0; i < 100; i++) {
  try {
    buffers.push(SecretBuffer.from(new Uint8Array(64).fill(i + 1)));
  } catch (error) {
    fillError = codeOf(error);
    break;
  }
}
const intact =
  buffers.filter((buffer, i) =>
    buffer.read((bytes) => bytes.every((b) => b === i + 1))
  ).length;
const lockedAfterFill = vmLck();
const afterFill = stats();

const self = fileURLToPath(import.meta.url);
let pool: SecretPool | undefined;
const paths: Record<string, Outcome> = {
  alloc: await attempt(() => SecretBuffer.alloc(32)),
  random: await attempt(() => SecretBuffer.random(32)),
  from: await attempt(() => SecretBuffer.from(new Uint8Array(32).fill(7))),
  fromHex: await attempt(() => SecretBuffer.fromHex("00ff".repeat(16))),
  fromBase64: await attempt(() => SecretBuffer.fromBase64("AAAA")),
  fromText: await attempt(() => SecretBuffer.fromText("correct horse")),
  fromStream: await attempt(() =>
    SecretBuffer.fromStream(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(48).fill(3));
          controller.close();
        },
      }),
    )
  ),
  fromFileSync: await attempt(() =>
    SecretBuffer.fromFileSync(self, { maxSize: 1 << 20 })
  ),
  fromFile: await attempt(() =>
    SecretBuffer.fromFile(self, { maxSize: 1 << 20 })
  ),
  pool: await attempt(() => {
    // Made here, after the fill: a pool takes the policy when it is made.
    pool = new SecretPool();
    kept.push(pool.alloc(32));
    return pool.stats().unlockedBytes;
  }),
  enclave: await attempt(() => {
    const before = stats().unlockedBuffers;
    const secret = new Uint8Array(32).fill(0x5a);
    using enclave = Enclave.seal(SecretBuffer.from(secret.slice()));
    using opened = enclave.open();
    const same = opened.read((bytes) => bytes.every((b, i) => b === secret[i]));
    // The key halves and the opened buffer, all past the limit.
    return same ? stats().unlockedBuffers - before : -1;
  }),
  perCallRequired: await attempt(() =>
    SecretBuffer.alloc(32, { lock: "required" })
  ),
  perCallPoolRequired: await attempt(() =>
    new SecretPool({ lock: "required" }).alloc(32)
  ),
  perCallBestEffort: await attempt(() =>
    SecretBuffer.alloc(32, { lock: "best-effort" })
  ),
};
const lockedAtEnd = vmLck();
const atEnd = stats();
for (const item of kept) item.destroy();
for (const buffer of buffers) buffer.destroy();

emit({
  settings,
  lockedAtStart,
  made: buffers.length,
  intact,
  fillError,
  lockedAfterFill,
  afterFill,
  paths,
  lockedAtEnd,
  atEnd,
  afterDestroy: stats(),
});
