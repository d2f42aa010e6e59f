/**
 * Child for tests/claims_input_test.ts: gets a 32-byte secret one way,
 * holds it only in a SecretBuffer, builds a masked needle, destroys the
 * buffer and prints how many copies a scan of its own memory finds. The
 * ways are the ones the README warns about (the runtimes' own file streams,
 * `crypto.getRandomValues`) beside the ones it recommends, so the warning
 * and the advice are both measured.
 *
 * Usage: claims_scan.ts <how> [path]
 * - node-stream: `fs.createReadStream(path)` through `fromStream`
 * - bun-file-stream: `Bun.file(path).stream()` through `fromStream` (Bun)
 * - file: `fromFile(path)` (the advice)
 * - get-random-values: `crypto.getRandomValues` into a heap array, then
 *   `SecretBuffer.from` (which zeroes the array)
 * - random: `SecretBuffer.random` (getrandom(2) through FFI)
 * - slice, from-buffer, copy-to: a random key copied to a second guarded
 *   buffer by `slice`, `SecretBuffer.from(buffer)` or `copyTo`; both
 *   destroyed
 * - write-to: a random key written to /dev/null with `writeToSync`
 * - control: `SecretBuffer.random` with one heap copy kept, which the scan
 *   must find (so a 0 elsewhere means gone, not unseen)
 *
 * @module
 */

import { closeSync, createReadStream, openSync } from "node:fs";
import { SecretBuffer } from "../../mod.ts";
import { needleOf } from "../_forensics.ts";
import { scanMemory } from "../../src/doctor/_scan.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  Bun?: { file(path: string): { stream(): ReadableStream<Uint8Array> } };
  process: { argv: string[]; exit(code: number): never };
};
const [how, path] = host.Deno?.args ?? host.process.argv.slice(2);

async function read(): Promise<SecretBuffer> {
  switch (how) {
    case "node-stream":
      return await SecretBuffer.fromStream(createReadStream(path));
    case "bun-file-stream":
      return await SecretBuffer.fromStream(host.Bun!.file(path).stream());
    case "file":
      return await SecretBuffer.fromFile(path);
    case "get-random-values":
      return SecretBuffer.from(crypto.getRandomValues(new Uint8Array(32)));
    case "random":
    case "control":
      return SecretBuffer.random(32);
  }
  throw new Error(`unknown way ${how}`);
}

/** Copies the key to another guarded buffer the way `how` says, then frees it. */
function copyThrough(key: SecretBuffer): void {
  const copy = how === "slice"
    ? key.slice()
    : how === "from-buffer"
    ? SecretBuffer.from(key)
    : SecretBuffer.alloc(key.size);
  if (how === "copy-to") key.copyTo(copy, 0);
  if (!copy.equals(key)) throw new Error(`${how} did not copy`);
  copy.destroy();
}

if (["slice", "from-buffer", "copy-to", "write-to"].includes(how)) {
  const key = SecretBuffer.random(32);
  const needle = needleOf(key);
  if (how === "write-to") {
    const fd = openSync("/dev/null", "w");
    key.writeToSync(fd);
    closeSync(fd);
  } else {
    copyThrough(key);
  }
  key.destroy();
  const { hits, bytesScanned } = scanMemory(needle);
  console.log(`copies ${hits.length} scanned ${bytesScanned}`);
  host.process.exit(0);
}

const secret = await read();
const needle = needleOf(secret);
const kept = how === "control" ? secret.read((bytes) => bytes.slice()) : null;
secret.destroy();
const { hits, bytesScanned } = scanMemory(needle);
console.log(`copies ${hits.length} scanned ${bytesScanned}`);
kept?.fill(0);
