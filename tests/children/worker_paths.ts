/**
 * Child for tests/hostile_workers_test.ts: a Worker makes buffers through
 * the library's own paths (decoders, copies, file readers, the crypto
 * entry, the Enclave, the pool), plus one control buffer that its own code
 * reads. The main thread ends it with `terminate()`, waits for its thread
 * to be gone, and prints what `purge()` reclaimed: every range, each
 * wiped and quarantined.
 *
 * Usage: worker_paths.ts <file to read>
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { purge, SecretBuffer, SecretPool, stats } from "../../mod.ts";
import { decrypt, encrypt, hkdf, hmac, scryptSync } from "../../crypto.ts";
import { Enclave } from "../../enclave.ts";
import { startWorker, threadGone, threadId, workerOrMain } from "./_worker.ts";

interface Host {
  Deno?: { args: string[] };
  process: { argv: string[]; exit(code: number): never };
}
const host = globalThis as unknown as Host;

interface Report {
  tid: number;
  /** Entries this thread holds in the process table: buffers and arenas. */
  entries: number;
  paths: number;
}

const say = (line: string) => console.log(line);

// ---- the Worker side --------------------------------------------------

async function workerMain(file: string, post: (r: Report) => void) {
  const kept: unknown[] = [];
  let paths = 0;
  const made = <T>(value: T): T => {
    kept.push(value);
    paths++;
    return value;
  };
  made(SecretBuffer.fromHex("00ff10ab".repeat(8)));
  made(SecretBuffer.fromText("correct horse battery staple"));
  made(SecretBuffer.fromBase64("AQIDBAUGBwg="));
  const source = made(SecretBuffer.random(32));
  made(SecretBuffer.from(source));
  made(source.slice(4, 20));
  const target = made(SecretBuffer.alloc(64));
  source.copyTo(target, 8);
  source.equals(new Uint8Array(32));
  source.equals(target);
  const sink = openSync("/dev/null", "w");
  try {
    source.writeToSync(sink);
  } finally {
    closeSync(sink);
  }
  made(SecretBuffer.fromFileSync(file));
  made(await SecretBuffer.fromFile(file));
  made(
    await SecretBuffer.fromStream((async function* () {
      yield new Uint8Array([1, 2, 3]);
    })()),
  );
  const master = made(SecretBuffer.random(32));
  made(hkdf("SHA-256", master, { length: 32 }));
  hmac("SHA-256", master, source);
  const key = made(SecretBuffer.random(32));
  encrypt(key, source);
  made(decrypt(key, encrypt(key, new Uint8Array([1, 2, 3]))));
  made(
    scryptSync(source, {
      salt: new Uint8Array(16),
      N: 16,
      r: 1,
      p: 1,
      length: 32,
    }),
  );
  const enclave = Enclave.seal(SecretBuffer.random(16));
  kept.push(enclave);
  made(enclave.open());
  const pool = new SecretPool();
  kept.push(pool);
  made(pool.from(new Uint8Array(16).fill(9)));
  // The control: caller code looks into it, so it may have escaped.
  const control = SecretBuffer.random(32);
  control.read((view) => view[0]);
  kept.push(control);
  (globalThis as { kept?: unknown }).kept = kept;
  // This thread's buffers (the Enclave's two key halves among them) and
  // the pool's one arena.
  const entries = stats().liveBuffers + pool.stats().arenas;
  post({ tid: threadId(), entries, paths });
  // Stays alive until ended from outside.
  setInterval(() => {}, 1000);
  await new Promise(() => {});
}

// ---- the main thread --------------------------------------------------

async function main(): Promise<void> {
  const file = (host.Deno?.args ?? host.process.argv.slice(2))[0];
  const worker = await startWorker<Report>(import.meta.url, file);
  const report = await worker.report;
  const before = stats();
  say(`reach ${before.reach}`);
  say(`paths ${report.paths}`);
  say(`entries ${report.entries}`);
  say(`other ${before.otherThreadBuffers}`);
  await worker.terminate();
  say(`ended ${await threadGone(report.tid)}`);
  purge();
  const after = stats();
  say(`reclaimed ${after.reclaimedBuffers - before.reclaimedBuffers}`);
  say(`quarantined ${after.quarantinedBuffers - before.quarantinedBuffers}`);
  say(`other after ${after.otherThreadBuffers}`);
  host.process.exit(0);
}

await workerOrMain(
  import.meta.url,
  (file, post) => workerMain(file, post),
  main,
);
