/**
 * Child for the permission test (issue 23, class 5): reads the file named
 * by argument 1 with `fromFile` and `fromFileSync`, under whatever
 * permission flags the test started this runtime with, and prints one
 * JSON line: per entry, the error code and message, or the size read.
 * Never the bytes.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const path = (host.Deno?.args ?? host.process.argv.slice(2))[0];

interface Outcome {
  entry: string;
  code?: string;
  message?: string;
  size?: number;
}

const outcomes: Outcome[] = [];
const entries: [string, () => Promise<SecretBuffer>][] = [
  ["fromFile", () => SecretBuffer.fromFile(path)],
  [
    "fromFileSync",
    () => Promise.resolve().then(() => SecretBuffer.fromFileSync(path)),
  ],
  ["fromFile(URL)", () => SecretBuffer.fromFile(new URL(`file://${path}`))],
];
for (const [entry, read] of entries) {
  try {
    const secret = await read();
    outcomes.push({ entry, size: secret.size });
    secret.destroy();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    outcomes.push({ entry, code, message });
  }
}
console.log(JSON.stringify({ outcomes }));
