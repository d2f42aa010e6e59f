/**
 * Node never takes a call path known to crash. node:ffi's fast call path
 * killed processes making tight loops of calls now and then (a V8 fatal
 * error or SIGSEGV; docs/node-ffi-fast-call-crash.md), so the adapter binds
 * every function with a signature that path refuses (ffi/node.ts). This runs
 * 50 Node processes, two at a time (one per core), each making 40,000 tight
 * calls to every libc function the adapter binds, and wants every one of them
 * to live. A Node property: Deno and Bun skip it.
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

test(
  `${PROCESSES} Node processes, ${CALLS} tight calls to each libc function, none crashes`,
  async () => {
    const command = runtimeCommand(childScript("node_ffi_stress.ts"), [
      String(CALLS),
    ]);
    const ended: Ended[] = [];
    let next = 0;
    const worker = async () => {
      while (next < PROCESSES) {
        next++;
        ended.push(await runOnce(command));
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));

    const lived = ended.filter(({ code, output }) =>
      code === 0 && /^ok \d+ \d+$/m.test(output)
    );
    const crashed = ended.filter((result) => !lived.includes(result));
    const functions = /^ok (\d+)/m.exec(lived[0]?.output ?? "")?.[1] ?? "?";
    console.log(
      `  node ffi stress: ${crashed.length} of ${ended.length} processes crashed (${functions} functions x ${CALLS} calls each)`,
    );
    assert.equal(ended.length, PROCESSES);
    assert.deepEqual(
      crashed.slice(0, 3).map(({ code, signal, output }) =>
        `${signal ?? `exit ${code}`}: ${
          output.trim().split("\n").slice(-3).join(" | ")
        }`
      ),
      [],
    );
  },
  { skip },
);
