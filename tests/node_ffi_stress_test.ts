/**
 * Node never takes a call path known to crash. node:ffi's fast call path
 * killed processes making tight loops of calls now and then (a V8 fatal
 * error or SIGSEGV; docs/node-ffi-fast-call-crash.md), so the adapter binds
 * every function with a signature that path refuses (ffi/node.ts). This runs
 * 50 Node processes, two at a time (one per core), each making 40,000 tight
 * calls to every libc function the adapter binds, then 50 of the process that
 * crashed most often, and wants every one of them to live. A Node property:
 * Deno and Bun skip it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { runtime, test } from "./_harness.ts";
import { childScript, runtimeCommand } from "./_child.ts";
import { platform } from "../ffi/load.ts";

const PROCESSES = 50;
const CALLS = 40_000;
const AT_ONCE = 2;

interface Ended {
  code: number | null;
  signal: string | null;
  output: string;
}

function runOnce(command: readonly string[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => output += chunk);
    child.stderr.on("data", (chunk) => output += chunk);
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}

const skip = runtime !== "node"
  ? "a Node property: node:ffi's fast call path"
  : platform().os !== "linux"
  ? "binds the Linux libc table"
  : false;

/** Runs `command` `PROCESSES` times, `AT_ONCE` at a time; the ones that died. */
async function crashes(
  command: readonly string[],
  lived: RegExp,
): Promise<{ ended: number; crashed: Ended[]; first: string }> {
  const ended: Ended[] = [];
  let next = 0;
  const worker = async () => {
    while (next < PROCESSES) {
      next++;
      ended.push(await runOnce(command));
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  const crashed = ended.filter(({ code, output }) =>
    code !== 0 || !lived.test(output)
  );
  const first = ended.find((result) => !crashed.includes(result))?.output ??
    "";
  return { ended: ended.length, crashed, first };
}

/** How the first few crashed processes ended, for the assertion's message. */
function describe(crashed: readonly Ended[]): string[] {
  return crashed.slice(0, 3).map(({ code, signal, output }) => {
    const lines = output.trim().split("\n");
    const why = lines.find((line) =>
      /Check failed|unreachable code|Error/.test(line)
    ) ?? lines[lines.length - 1];
    return `${signal ?? `exit ${code}`}: ${why}`;
  });
}

test(
  `${PROCESSES} Node processes, ${CALLS} tight calls to each libc function, none crashes`,
  async () => {
    const command = runtimeCommand(childScript("node_ffi_stress.ts"), [
      String(CALLS),
    ]);
    const { ended, crashed, first } = await crashes(command, /^ok \d+ \d+$/m);
    const functions = /^ok (\d+)/m.exec(first)?.[1] ?? "?";
    console.log(
      `  node ffi stress: ${crashed.length} of ${ended} processes crashed (${functions} functions x ${CALLS} calls each)`,
    );
    assert.equal(ended, PROCESSES);
    assert.deepEqual(describe(crashed), []);
  },
  { skip },
);

// The process that crashed most often on the fast path: the bench's ffi_ptr
// workload (a buffer allocated, then 2,200 explicit_bzero calls through the
// adapter, and exit) died in 33 of 400 runs there, and in 0 of 400 padded.
test(
  `${PROCESSES} Node processes of the bench's ffi_ptr workload, none crashes`,
  async () => {
    const bench = new URL("../bench/secmem_bench.ts", import.meta.url).href;
    const command = runtimeCommand(bench, ["time", "ffi_ptr:2000"]);
    const { ended, crashed } = await crashes(command, /^ffi_ptr /m);
    console.log(
      `  node ffi stress: ${crashed.length} of ${ended} bench ffi_ptr processes crashed`,
    );
    assert.equal(ended, PROCESSES);
    assert.deepEqual(describe(crashed), []);
  },
  { skip },
);
