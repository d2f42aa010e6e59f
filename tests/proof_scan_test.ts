/**
 * Memory forensics in a fresh child: a SecretBuffer's bytes are found in the
 * process's present pages only at the buffer's own address (at rest, open,
 * inside a write scope), and nowhere after destroy, a `using` scope, purge,
 * or an overwrite; an ordinary array is found (the scan can see).
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { childScript, runChild } from "./_child.ts";
import { describeChild, lastJson, say } from "./_forensics.ts";
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
    assertEquals(result.status, 0, describeChild(result));
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
        assertEquals(row.hits.length, 0, `${row.name}: copies left`);
      } else {
        assertEquals(row.hits, [row.expected], `${row.name}: hits`);
      }
    }
  },
  { skip: linuxOnly },
);
