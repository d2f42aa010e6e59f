/**
 * Child for the adversarial suite (tests/hostile_*_test.ts): each mode
 * attacks the library the way a hostile or careless caller would, in a
 * process of its own, because the right outcome can be a fault (SIGSEGV
 * when a kept view touches a quarantined range) and the wrong one can be
 * a crash of another kind. It prints what it saw, one fact per line.
 *
 * @module
 */

import {
  catchInterrupt,
  SecretBuffer,
  SecretMemoryError,
  SecretPool,
  stats,
} from "../../mod.ts";
import { native } from "../../src/core/_native.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [mode, how] = host.Deno?.args ?? host.process.argv.slice(2);

function say(line: string): void {
  console.log(line);
}

function overlaps(a: bigint, size: number, b: bigint, other: number): boolean {
  return a < b + BigInt(other) && b < a + BigInt(size);
}

/** Allocates `count` secrets of `size`; how many landed in the old range. */
function landings(address: bigint, size: number, count: number): number {
  let hits = 0;
  const made: SecretBuffer[] = [];
  for (let i = 0; i < count; i++) {
    const next = SecretBuffer.random(size);
    if (overlaps(address, size, next.address, size)) hits++;
    made.push(next);
  }
  for (const buffer of made) buffer.destroy();
  return hits;
}

function escape(view: Uint8Array, kind: string): Uint8Array {
  if (kind === "transfer") {
    return new Uint8Array((view.buffer as ArrayBuffer).transfer());
  }
  return structuredClone(view, { transfer: [view.buffer as ArrayBuffer] });
}

/** postMessage with a transfer list: the pages arrive on the other port. */
function postAway(view: Uint8Array): Promise<Uint8Array> {
  const { port1, port2 } = new MessageChannel();
  const arrived = new Promise<Uint8Array>((resolve) => {
    port2.onmessage = (event) => {
      resolve(event.data as Uint8Array);
      port1.close();
      port2.close();
    };
  });
  port1.postMessage(view, [view.buffer as ArrayBuffer]);
  return arrived;
}

async function main(): Promise<void> {
  if (mode === "escaped-touch") {
    const size = 4080;
    const secret = SecretBuffer.random(size);
    const address = secret.address;
    let kept: Uint8Array = new Uint8Array(0);
    let arrived: Promise<Uint8Array> | undefined;
    secret.read((view) => {
      if (how === "message") arrived = postAway(view);
      else kept = escape(view, how);
    });
    if (arrived !== undefined) kept = await arrived;
    say(`escaped ${kept.length}`);
    say(`size after escape ${secret.read((view) => view.length)}`);
    secret.destroy();
    say(`quarantined ${stats().quarantinedBuffers}`);
    say(`landed ${landings(address, size, 64)}`);
    say("touching");
    // The escaped view must fault (the range is inaccessible), never read
    // the bytes of a later secret.
    say(`read ${kept[0]} of ${kept.length}`);
    return;
  }
  if (mode === "slot-touch") {
    const pool = new SecretPool();
    const slot = pool.random(32);
    const address = slot.address;
    let kept: Uint8Array = new Uint8Array(0);
    slot.read((view) => {
      kept = new Uint8Array((view.buffer as ArrayBuffer).transfer());
    });
    slot.destroy();
    const result = pool.destroy();
    say(`pool destroyed ${result.destroyed}`);
    say(`quarantined ${stats().quarantinedBuffers}`);
    const again = new SecretPool();
    const next = again.random(32);
    say(`same address ${next.address === address}`);
    next.destroy();
    again.destroy();
    say("touching");
    say(`read ${kept[0]}`);
    return;
  }
  if (mode === "lent-touch") {
    let kept: Uint8Array | undefined;
    const stream = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest!;
        kept = request.view as Uint8Array;
        controller.error(new Error("stream broke"));
      },
    });
    try {
      await SecretBuffer.fromStream(stream);
      say("resolved");
    } catch (error) {
      const code = error instanceof SecretMemoryError ? error.code : "other";
      const cause = (error as { cause?: Error }).cause?.message;
      say(`error ${code} cause ${cause}`);
    }
    say(`quarantined ${stats().quarantinedBuffers}`);
    const fresh = SecretBuffer.random(4080);
    fresh.destroy();
    say("touching");
    // Spec: the view the source kept was transferred away when it erred,
    // or still aliases our pages; either way it must not read a new key.
    say(`read ${kept?.length === 0 ? "empty" : kept![0]}`);
    return;
  }
  if (mode === "guarded-sources") {
    const source = SecretBuffer.fromHex("0102030405");
    const copies: (SecretBuffer | { destroy(): void })[] = [];
    source.read((view) => {
      copies.push(SecretBuffer.from(view));
      copies.push(SecretBuffer.from(view.subarray(1, 3)));
      copies.push(SecretBuffer.from(view, { wipeSource: true }));
    });
    const pool = new SecretPool();
    source.read((view) => copies.push(pool.from(view)));
    const slot = pool.from(new Uint8Array([9, 8, 7]));
    slot.read((view) => copies.push(SecretBuffer.from(view)));
    slot.read((view) => copies.push(pool.from(view)));
    source.protect("readonly");
    copies.push(SecretBuffer.from(source.view));
    copies.push(
      await SecretBuffer.fromStream((async function* () {
        yield source.view;
      })()),
    );
    source.protect("noaccess");
    const first = copies[0] as SecretBuffer;
    say(`source intact ${source.equals(new Uint8Array([1, 2, 3, 4, 5]))}`);
    say(`copy equal ${first.equals(source)}`);
    say(`slot intact ${slot.equals(new Uint8Array([9, 8, 7]))}`);
    for (const copy of copies) copy.destroy();
    source.destroy();
    slot.destroy();
    pool.destroy();
    say("ok");
    return;
  }
  if (mode === "exhaust") {
    const held: SecretBuffer[] = [];
    let code = "none";
    let message = "";
    for (let i = 0; i < 200_000; i++) {
      try {
        held.push(SecretBuffer.alloc(16, { lock: "best-effort" }));
      } catch (error) {
        code = error instanceof SecretMemoryError ? error.code : String(error);
        message = (error as Error).message;
        break;
      }
    }
    say(`refused ${code} after ${held.length}`);
    say(`names pool ${message.includes("SecretPool")}`);
    // The runtime must still be able to map: grow the heap, compile code.
    const junk: unknown[] = [];
    for (let i = 0; i < 2000; i++) junk.push(new ArrayBuffer(65536));
    say(`compiled ${new Function("a", "return a * 2")(21)}`);
    for (const buffer of held) buffer.destroy();
    const again = SecretBuffer.random(32);
    again.destroy();
    say(`after ok ${junk.length} ${stats().liveBuffers}`);
    return;
  }
  if (mode === "interrupt") {
    const secret = SecretBuffer.random(32);
    catchInterrupt();
    (globalThis as { kept?: unknown }).kept = secret;
    say(`live ${stats().liveBuffers}`);
    native().onExit(() => say(`live at exit ${stats().liveBuffers}`));
    // The process signals itself, as a terminal closing or a supervisor
    // stopping it would.
    const proc = host as unknown as {
      process: { pid: number; kill(pid: number, signal: string): void };
    };
    proc.process.kill(proc.process.pid, how);
    setTimeout(() => say("still running"), 5000);
    return;
  }
  if (mode === "fatal") {
    const secret = SecretBuffer.random(32);
    (globalThis as { kept?: unknown }).kept = secret;
    // Registered after the library's own hook, so it runs after the wipe.
    native().onExit(() => say(`live at fatal exit ${stats().liveBuffers}`));
    say(`live ${stats().liveBuffers}`);
    if (how === "reject") void Promise.reject(new Error("nobody catches this"));
    else {setTimeout(() => {
        throw new Error("nobody catches this");
      }, 0);}
    return;
  }
  if (mode === "frozen") {
    // Frozen intrinsics (as SES lockdown or --frozen-intrinsics leave
    // them): every entry point must work without writing to any of them.
    if (how !== "flag") {
      for (
        const target of [
          Uint8Array,
          Uint8Array.prototype,
          Object.getPrototypeOf(Uint8Array),
          Object.getPrototypeOf(Uint8Array.prototype),
          ArrayBuffer,
          ArrayBuffer.prototype,
          Promise,
          Promise.prototype,
          Object,
          Object.prototype,
          Reflect,
        ]
      ) Object.freeze(target);
    }
    const a = SecretBuffer.from(new Uint8Array([1, 2, 3]));
    const b = SecretBuffer.fromHex("010203");
    const pool = new SecretPool();
    const slot = pool.from(new Uint8Array([1, 2, 3]));
    const streamed = await SecretBuffer.fromStream(
      new ReadableStream({
        type: "bytes",
        pull(controller) {
          const view = controller.byobRequest!.view as Uint8Array;
          view.set([1, 2, 3]);
          controller.byobRequest!.respond(3);
          controller.close();
        },
      }),
    );
    await a.read(async () => {});
    const tail = a.slice(1);
    // A typed error stays typed under a frozen Error.prototype.
    if (how !== "flag") Object.freeze(Error.prototype);
    try {
      SecretBuffer.alloc(-1);
    } catch (error) {
      say(`typed ${error instanceof SecretMemoryError && error.code}`);
    }
    say(
      `equal ${a.equals(b)} ${a.equals(slot)} ${streamed.equals(a)} ${
        tail.equals(new Uint8Array([2, 3]))
      }`,
    );
    for (const buffer of [a, b, streamed, slot, tail]) buffer.destroy();
    pool.destroy();
    say(`live ${stats().liveBuffers}`);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

await main();
