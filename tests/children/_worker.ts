/**
 * One child script that is both a main thread and the Workers it starts,
 * in all three runtimes: Deno's web Workers (so that one can end itself
 * with `self.close()`), node:worker_threads in Node and Bun (Bun's web
 * Workers do not see the query that carries the job). Also how a test
 * tells a Worker's thread is gone: its /proc/self/task entry.
 *
 * @module
 */

import { existsSync, readlinkSync } from "node:fs";

interface Host {
  Deno?: unknown;
  postMessage?: (message: unknown) => void;
}
const host = globalThis as unknown as Host;
const webWorkers = host.Deno !== undefined;

/** A Worker started on a job. */
export interface StartedWorker<R> {
  /** Its first message. */
  report: Promise<R>;
  /** Sends it a message. */
  send(message: unknown): void;
  /** Ends it from outside with `terminate()`. */
  terminate(): Promise<void>;
}

/** Starts `script` (this module's caller) as a Worker on `job`. */
export async function startWorker<R>(
  script: string,
  job: string,
): Promise<StartedWorker<R>> {
  if (webWorkers) {
    const url = new URL(script);
    url.searchParams.set("job", job);
    const worker = new Worker(url, { type: "module" });
    const report = new Promise<R>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data as R);
      worker.onerror = (event) => reject(new Error(String(event.message)));
    });
    return {
      report,
      send: (message) => worker.postMessage(message),
      terminate: () => Promise.resolve(worker.terminate()),
    };
  }
  const threads = await import("node:worker_threads");
  const worker = new threads.Worker(new URL(script), { workerData: job });
  const report = new Promise<R>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    report,
    send: (message) => worker.postMessage(message),
    terminate: async () => void await worker.terminate(),
  };
}

/**
 * Runs `worker` when `script` was started as a Worker (with its job and a
 * way to post to the main thread), else `main`.
 */
export async function workerOrMain(
  script: string,
  worker: (job: string, post: (message: unknown) => void) => Promise<void>,
  main: () => Promise<void>,
): Promise<void> {
  const job = new URL(script).searchParams.get("job");
  if (webWorkers) {
    if (job !== null) return await worker(job, (m) => host.postMessage!(m));
    return await main();
  }
  const threads = await import("node:worker_threads");
  if (threads.isMainThread) return await main();
  await worker(
    threads.workerData as string,
    (message) => threads.parentPort!.postMessage(message),
  );
}

/** This thread's id, as /proc/self/task names it. */
export function threadId(): number {
  return Number(readlinkSync("/proc/thread-self").split("/").pop());
}

/** Waits up to 5 s for thread `tid` to be gone; whether it is. */
export async function threadGone(tid: number): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if (!existsSync(`/proc/self/task/${tid}`)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}
