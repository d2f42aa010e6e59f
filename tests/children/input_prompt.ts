/**
 * Child for the prompt tests: asks for a passphrase with `promptSecret`
 * and reports, on stdout, the result (`size`, and `hex` unless scanning),
 * or the error code, and whether the terminal settings (`stty -g`) are the
 * same after the prompt as before. Mode `scan` also builds a masked needle
 * from the passphrase, destroys it, and prints how many copies of it a
 * scan of the process's memory finds; `scan-control` keeps one heap copy
 * first, which the scan must find.
 *
 * Usage: input_prompt.ts <mode: show|pipe|scan|scan-control>
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { catchInterrupt, promptSecret, SecretMemoryError } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";
import { needleOf } from "../_forensics.ts";
import { scanMemory } from "../../src/doctor/_scan.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [mode] = host.Deno?.args ?? host.process.argv.slice(2);

function terminalSettings(): string {
  const run = spawnSync("stty", ["-g"], {
    stdio: ["inherit", "pipe", "ignore"],
    encoding: "utf8",
  });
  return run.status === 0 ? run.stdout.trim() : "none";
}

const before = terminalSettings();
const lines: string[] = [];
if (mode === "sigterm") {
  // The adversarial suite's case: a signal while the prompt waits must be
  // handled (the prompt yields) and must leave the terminal as it was.
  catchInterrupt();
  native().onExit(() => {
    const now = terminalSettings() === before ? "restored" : "changed";
    console.log(`terminal ${now} at exit`);
  });
  const pid = (host as unknown as { process: { pid: number } }).process.pid;
  setTimeout(() => {
    (host as unknown as { process: { kill(p: number, s: string): void } })
      .process.kill(pid, "SIGTERM");
  }, 300);
}
try {
  const secret = await promptSecret("Passphrase: ", {
    allowPipe: mode === "pipe",
    maxSize: 64,
  });
  lines.push(`size ${secret.size}`);
  if (mode.startsWith("scan")) {
    const needle = needleOf(secret);
    // The control keeps one heap copy, which the scan must find.
    const kept = mode === "scan-control"
      ? secret.read((bytes) => bytes.slice())
      : null;
    secret.destroy();
    lines.push(`copies ${scanMemory(needle).hits.length}`);
    kept?.fill(0);
  } else {
    const hex = secret.read((bytes) =>
      Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
    );
    lines.push(`hex ${hex}`);
    secret.destroy();
  }
} catch (error) {
  if (!(error instanceof SecretMemoryError)) throw error;
  lines.push(`error ${error.code}`);
}
lines.push(
  `terminal ${terminalSettings() === before ? "restored" : "changed"}`,
);
console.log(lines.join("\n"));
