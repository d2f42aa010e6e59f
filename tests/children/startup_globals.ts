/**
 * Child of tests/startup_globals_test.ts: makes the globals that some
 * runtimes load lazily (Deno's timers, Node's `crypto` and `performance`)
 * accessors that count their reads, imports the main entry and makes the
 * first secret, and prints the counts as JSON.
 *
 * @module
 */

const host = globalThis as unknown as Record<string, unknown>;
const names = [
  "setTimeout",
  "setImmediate",
  "setInterval",
  "clearInterval",
  "crypto",
] as const;
const reads: Record<string, number> = {};
for (const name of names) {
  reads[name] = 0;
  const slot = Object.getOwnPropertyDescriptor(globalThis, name);
  const read = slot?.get;
  const value = slot?.value;
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() {
      reads[name]++;
      return read === undefined ? value : Reflect.apply(read, globalThis, []);
    },
  });
}

const { SecretBuffer } = await import("../../mod.ts");
const key = SecretBuffer.random(32);
key.destroy();
console.log(
  JSON.stringify({
    reads,
    named: typeof Object.getOwnPropertyDescriptor(host, "setTimeout")?.get,
  }),
);
