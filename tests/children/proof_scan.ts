/**
 * Child for the memory-forensics proof: scans its own present pages for
 * SecretBuffer contents in every state and after every way a buffer ends,
 * and prints what it found as one JSON line.
 *
 * @module
 */

import { purge, SecretBuffer } from "../../mod.ts";
import {
  type Needle,
  scanMemory,
  scanMemoryAll,
} from "../../src/doctor/_scan.ts";
import { emit, needleOf } from "../_forensics.ts";

interface Row {
  name: string;
  /** Where the bytes must be, or null when they must be nowhere. */
  expected: string | null;
  hits: string[];
  scannedMiB: number;
  ms: number;
}

const rows: Row[] = [];

function scan(name: string, needle: Needle, expected: bigint | null): void {
  const started = performance.now();
  const result = scanMemory(needle);
  rows.push({
    name,
    expected: expected === null ? null : `0x${expected.toString(16)}`,
    hits: result.hits.map((hit) => `0x${hit.toString(16)}`),
    scannedMiB: Math.round(result.bytesScanned / 2 ** 20),
    ms: Math.round(performance.now() - started),
  });
}

/** The needle for `length` bytes at `offset` of a buffer's contents. */
function sliceNeedle(
  buffer: SecretBuffer,
  offset: number,
  length = 32,
): Needle {
  return buffer.read((bytes) =>
    needleOf(bytes.subarray(offset, offset + length))
  );
}

for (const placement of ["end", "start"] as const) {
  const key = SecretBuffer.random(32, { placement });
  const needle = needleOf(key);
  const address = key.address;
  scan(`random(32) ${placement}: at rest (noaccess)`, needle, address);
  key.protect("readonly");
  scan(`random(32) ${placement}: open readonly`, needle, address);
  key.protect("noaccess");
  key.write(() =>
    scan(`random(32) ${placement}: inside a write scope`, needle, address)
  );
  key.destroy();
  scan(`random(32) ${placement}: after destroy()`, needle, null);
}

{
  const big = SecretBuffer.random(65536);
  const head = sliceNeedle(big, 0);
  const tail = sliceNeedle(big, 65536 - 32);
  scan("random(65536): first 32 bytes at rest", head, big.address);
  scan(
    "random(65536): last 32 bytes at rest",
    tail,
    big.address + 65536n - 32n,
  );
  big.destroy();
  scan("random(65536): first 32 bytes after destroy()", head, null);
  scan("random(65536): last 32 bytes after destroy()", tail, null);
}

{
  let needle: Needle;
  {
    using key = SecretBuffer.random(32);
    needle = needleOf(key);
  }
  scan("random(32): after a `using` scope ends", needle, null);
}

{
  const key = SecretBuffer.random(32);
  const needle = needleOf(key);
  purge();
  scan(`random(32): after purge() (state ${key.state})`, needle, null);
}

{
  // Overwritten in place: the old value must not survive anywhere.
  const key = SecretBuffer.random(32);
  const old = needleOf(key);
  key.write((bytes) => bytes.fill(0x11));
  scan("random(32): old value after write() replaced it", old, null);
  key.destroy();
}

{
  const keys = Array.from({ length: 100 }, () => SecretBuffer.random(32));
  const needles = keys.map((key) => needleOf(key));
  for (const key of keys) key.destroy();
  const started = performance.now();
  const results = scanMemoryAll(needles);
  const ms = performance.now() - started;
  const scannedMiB = Math.round(results[0].bytesScanned / 2 ** 20);
  const found = results.reduce((sum, result) => sum + result.hits.length, 0);
  rows.push({
    name: "100 x random(32): all 100 after destroy() (one pass)",
    expected: null,
    hits: Array.from({ length: found }, () => "?"),
    scannedMiB,
    ms: Math.round(ms),
  });
}

{
  // The control: bytes in an ordinary array are found, so the scan can see.
  const control = new Uint8Array(32);
  for (let i = 0; i < 32; i++) control[i] = 1 + Math.floor(Math.random() * 255);
  scan("control Uint8Array (must be found)", needleOf(control), null);
  (globalThis as Record<string, unknown>).keep = control;
}

emit({ rows });
