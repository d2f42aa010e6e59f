/**
 * Child of tests/core/intrinsics_test.ts: makes `setImmediate` and
 * `setTimeout` accessors that count their reads (as Deno defines them),
 * imports src/core/_intrinsics.ts, replaces both globals, then schedules
 * through `afterTurn` and `afterDelay`. Prints what it saw as JSON.
 *
 * @module
 */

const host = globalThis as unknown as Record<string, unknown>;
const names = ["setImmediate", "setTimeout"] as const;
const reads = { setImmediate: 0, setTimeout: 0 };
for (const name of names) {
  const real = host[name];
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get: () => {
      reads[name]++;
      return real;
    },
    // Deno's setter: the assigned value becomes a plain property, the
    // accessor (and what it returns) stays as it was.
    set: (value: unknown) => {
      Object.defineProperty(globalThis, name, {
        configurable: true,
        writable: true,
        value,
      });
    },
  });
}

const { afterDelay, afterTurn } = await import(
  "../../src/core/_intrinsics.ts"
);
const atImport = { ...reads };

let replacedCalls = 0;
host.setImmediate = () => replacedCalls++;
host.setTimeout = () => replacedCalls++;

const order: string[] = [];
await new Promise<void>((done) => {
  afterTurn(() => order.push("turn"));
  afterDelay(() => {
    order.push("delay");
    done();
  }, 5);
});
await new Promise<void>((done) => afterTurn(done));
await new Promise<void>((done) => afterDelay(done, 1));

console.log(
  JSON.stringify({ atImport, order, replacedCalls, afterUse: reads }),
);
