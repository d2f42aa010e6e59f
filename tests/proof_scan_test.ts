/**
 * Memory forensics in a fresh child: a SecretBuffer's bytes are found in the
 * process's present pages only at the buffer's own address (at rest, open,
 * inside a write scope), and nowhere after destroy, a `using` scope, purge,
 * or an overwrite; an ordinary array is found (the scan can see).
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import {
  describeChild,
  lastJson,
  removeDir,
  say,
  scanFile,
  tempDir,
} from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface Row {
  name: string;
  expected: string | null;
  hits: string[];
  scannedMiB: number;
  ms: number;
}

test(
  "scan of /proc/self/mem: found only inside the buffer while live, 0 hits after it ends",
  () => {
    const result = runChild(childScript("proof_scan.ts"), [], {
      timeout: 600_000,
    });
    assert.deepEqual(result.status, 0, describeChild(result));
    const { rows } = lastJson<{ rows: Row[] }>(result.stdout);
    for (const row of rows) {
      say(
        `  ${row.name}: ${row.hits.length} hit(s)${
          row.hits.length > 0 && row.hits[0] !== "?"
            ? ` at ${row.hits.join(", ")}`
            : ""
        }${
          row.expected ? ` (buffer at ${row.expected})` : ""
        }; ${row.scannedMiB} MiB present pages in ${row.ms} ms`,
      );
    }
    const control = rows.pop()!;
    assert(
      control.hits.length > 0,
      "the control array was not found: the scan cannot see",
    );
    for (const row of rows) {
      if (row.expected === null) {
        assert.deepEqual(row.hits.length, 0, `${row.name}: copies left`);
      } else {
        assert.deepEqual(row.hits, [row.expected], `${row.name}: hits`);
      }
    }
  },
  { skip: linuxOnly },
);

test(
  "scanFile finds each needle once, across chunk boundaries, in one pass",
  () => {
    const MiB = 2 ** 20;
    const data = new Uint8Array(3 * MiB + 123);
    const long = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
    const short = Uint8Array.from([0, 0, 9, 8, 7, 6, 5, 4]); // leading zeros
    const places: [Uint8Array, number][] = [
      [long, 10],
      [long, MiB - 16], // straddles the first chunk's end
      [short, MiB - 40], // inside the overlap the next chunk re-reads
      [short, 2 * MiB - 70],
      [short, 2 * MiB - 4], // straddles
      [long, data.length - 32], // the very end of the file
    ];
    for (const [bytes, at] of places) data.set(bytes, at);
    const dir = tempDir("scanfile");
    try {
      writeFileSync(`${dir}/data`, data);
      const needle = (bytes: Uint8Array) => ({
        masked: bytes.map((b) => b ^ 0x5c),
        mask: new Uint8Array(bytes.length).fill(0x5c),
      });
      const [longHits, shortHits] = scanFile(
        [needle(long), needle(short)],
        `${dir}/data`,
      );
      const expected = (bytes: Uint8Array) =>
        places.filter(([b]) => b === bytes).map(([, at]) => BigInt(at));
      assert.deepEqual(longHits.hits, expected(long), "32-byte needle");
      assert.deepEqual(shortHits.hits, expected(short), "8-byte needle");
      assert.deepEqual(longHits.bytesScanned, data.length, "bytes read");
    } finally {
      removeDir(dir);
    }
  },
  { skip: linuxOnly },
);
