/**
 * The interop table: what handing a SecretBuffer's key to WebCrypto,
 * node:crypto or @noble/ciphers leaves behind in this runtime, beside
 * secmem's own crypto, each in a fresh child (1,000 calls from 32 async
 * tasks, no forced GC). Prints the table; requires secmem's rows to be 0
 * and the scan to see the heap. `bench/interop.ts` runs the same children
 * under all three runtimes and writes docs/interop.md.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { lastJson, say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** The APIs the child knows, in table order. */
export const INTEROP_APIS: readonly string[] = [
  "webcrypto-importKey",
  "webcrypto-hmac",
  "node-createSecretKey",
  "node-createHmac",
  "node-createCipheriv",
  "node-scryptSync",
  "noble-xchacha20poly1305",
  "secmem-hmac",
  "secmem-encrypt",
  "secmem-scryptSync",
];

interface Row {
  api: string;
  alive?: number;
  destroyed?: number;
  heapControl?: number;
  error?: string;
}

test("interop table: copies of a key handed to other crypto code", () => {
  const rows: Row[] = [];
  for (const api of INTEROP_APIS) {
    const result = runChild(childScript("crypto_interop.ts"), [api], {
      timeout: 180_000,
    });
    const row = result.stdout.includes("{")
      ? lastJson<Row>(result.stdout)
      : { api, error: result.stderr.slice(-200) };
    rows.push(row);
    if (row.error === undefined) {
      assert(row.heapControl! > 0, `${api}: the scan sees the heap`);
    }
  }
  say("| API | copies while the key is alive | after destroy (no GC) |");
  for (const row of rows) {
    say(
      `| ${row.api} | ${row.error === undefined ? row.alive : "n/a"} | ${
        row.error === undefined ? row.destroyed : row.error.split("\n")[0]
      } |`,
    );
  }
  for (const row of rows.filter((r) => r.api.startsWith("secmem-"))) {
    assert.equal(row.error, undefined, `${row.api} ran`);
    assert.equal(row.alive, 0, `${row.api} while alive`);
    assert.equal(row.destroyed, 0, `${row.api} after destroy`);
  }
}, { skip: linuxOnly });
