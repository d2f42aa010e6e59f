/**
 * Review R8: a Worker given a scope's view of the main thread's secret
 * (its buffer transferred with postMessage) calls `SecretBuffer.from` on
 * it. Prints what the main thread's secret holds afterwards.
 * Usage: r8_worker_from.ts read|write
 *
 * @module
 */

import process from "node:process";
import { SecretBuffer } from "../../mod.ts";

const deno = "Deno" in globalThis;
const self = globalThis as unknown as {
  postMessage(m: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
};

function inWorker(
  receive: (fn: (data: unknown) => void) => void,
  post: (m: unknown) => void,
) {
  receive((data) => {
    const view = data as Uint8Array;
    let outcome: string;
    try {
      const copy = SecretBuffer.from(view);
      outcome = `copied ${copy.size}`;
      copy.destroy();
    } catch (error) {
      outcome = `threw ${(error as { code?: string }).code ?? error}`;
    }
    post(outcome);
  });
  post("ready");
}

async function main() {
  const mode = deno ? Deno.args[0] : process.argv[2];
  const secret = new Uint8Array(32).map((_, i) => i + 1);
  const key = SecretBuffer.from(secret);
  let send: (view: Uint8Array) => void;
  let next: () => Promise<unknown>;
  let stop: () => void;
  const url = new URL(import.meta.url);
  if (deno) {
    url.searchParams.set("worker", "1");
    const worker = new Worker(url, { type: "module" });
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    worker.onmessage = (e) => {
      queue.push(e.data);
      wake?.();
    };
    next = async () => {
      while (queue.length === 0) await new Promise<void>((r) => wake = r);
      return queue.shift();
    };
    send = (view) => worker.postMessage(view, [view.buffer as ArrayBuffer]);
    stop = () => worker.terminate();
  } else {
    const threads = await import("node:worker_threads");
    const worker = new threads.Worker(url, { workerData: "worker" });
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    worker.on("message", (m) => {
      queue.push(m);
      wake?.();
    });
    next = async () => {
      while (queue.length === 0) await new Promise<void>((r) => wake = r);
      return queue.shift();
    };
    send = (view) => worker.postMessage(view, [view.buffer as ArrayBuffer]);
    stop = () => void worker.terminate();
  }
  console.log(`worker ${await next()}`);
  const scope = mode === "read" ? key.read.bind(key) : key.write.bind(key);
  const answer = await scope(async (view: Uint8Array) => {
    send(view);
    return await next();
  });
  console.log(`worker said ${answer}`);
  const intact = key.read((view) => view.every((b, i) => b === i + 1));
  console.log(`main secret intact ${intact}`);
  key.destroy();
  stop();
}

if (deno) {
  if (new URL(import.meta.url).searchParams.get("worker") === "1") {
    inWorker(
      (fn) => self.onmessage = (e) => fn(e.data),
      (m) => self.postMessage(m),
    );
  } else await main();
} else {
  const threads = await import("node:worker_threads");
  if (threads.isMainThread) await main();
  else {
    inWorker(
      (fn) => threads.parentPort!.on("message", fn),
      (m) => threads.parentPort!.postMessage(m),
    );
  }
}
