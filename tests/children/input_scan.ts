/**
 * Child for the forensic tests: reads a secret the parent never held (a
 * file of random bytes made by the shell) through one input path, builds a
 * masked needle from the guarded copy, destroys the buffer, and prints how
 * many copies of the secret a scan of its own memory finds.
 *
 * Usage: input_scan.ts <path> <how> <mode>
 * - how: file | file-sync | fd | stdin | deno-fsfile | stream |
 *   fs-readsync | file-hex | file-base64 (a key file as text, decoded
 *   with `{ trim, encoding }`)
 *   (`fs-readsync` measures the runtime's own `fs.readSync` into a view
 *   over guarded pages, which secmem does not use, for comparison)
 * - mode: destroy (the real test) | control (keeps one heap copy, which
 *   the scan must find)
 *
 * @module
 */

import { createReadStream, openSync, readSync } from "node:fs";
import { SecretBuffer } from "../../mod.ts";
import { needleOf } from "../_forensics.ts";
import { scanMemory } from "../../src/doctor/_scan.ts";

const host = globalThis as unknown as {
  Deno?: {
    args: string[];
    open(path: string): Promise<Parameters<typeof SecretBuffer.fromFd>[0]>;
  };
  process: { argv: string[] };
};
const [path, how, mode] = host.Deno?.args ?? host.process.argv.slice(2);

async function read(): Promise<SecretBuffer> {
  switch (how) {
    case "file":
      return await SecretBuffer.fromFile(path);
    case "file-sync":
      return SecretBuffer.fromFileSync(path);
    case "file-hex":
      return await SecretBuffer.fromFile(path, { trim: true, encoding: "hex" });
    case "file-base64":
      return SecretBuffer.fromFileSync(path, {
        trim: true,
        encoding: "base64",
      });
    case "fd":
      return await SecretBuffer.fromFd(openSync(path, "r"));
    case "stdin":
      return await SecretBuffer.fromStdin();
    case "deno-fsfile":
      return await SecretBuffer.fromFd(await host.Deno!.open(path));
    case "stream":
      // Each runtime's own file stream: Deno's is a byte stream (BYOB);
      // Node's and Bun's yield chunks, which fromStream wipes.
      return await SecretBuffer.fromStream(
        host.Deno !== undefined
          ? (await host.Deno.open(path) as unknown as {
            readable: ReadableStream<Uint8Array>;
          }).readable
          : createReadStream(path),
      );
    case "fs-readsync": {
      const secret = SecretBuffer.alloc(32);
      const fd = openSync(path, "r");
      secret.write((view) => readSync(fd, view, 0, 32, 0));
      return secret;
    }
  }
  throw new Error(`unknown input path ${how}`);
}

const secret = await read();
const needle = needleOf(secret);
const kept = mode === "control" ? secret.read((bytes) => bytes.slice()) : null;
secret.destroy();
const { hits, bytesScanned } = scanMemory(needle);
console.log(
  `size ${secret.size} copies ${hits.length} scanned ${bytesScanned}`,
);
if (kept !== null) kept.fill(0);
