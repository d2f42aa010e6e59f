/**
 * Child for the stdin tests: reads stdin into a SecretBuffer with the mode
 * named in argv (`async` or `sync`) and a maxSize, and prints its size and
 * hex (the test's input is not secret) or the error code.
 *
 * @module
 */

import { SecretBuffer, SecretMemoryError } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [mode, max] = host.Deno?.args ?? host.process.argv.slice(2);
const options = { maxSize: Number(max) };
try {
  const secret = mode === "sync"
    ? SecretBuffer.fromStdinSync(options)
    : await SecretBuffer.fromStdin(options);
  const hex = secret.read((bytes) =>
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  );
  console.log(`size ${secret.size} hex ${hex}`);
  secret.destroy();
} catch (error) {
  if (!(error instanceof SecretMemoryError)) throw error;
  console.log(`error ${error.code}`);
}
