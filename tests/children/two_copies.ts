/**
 * Child for tests/hostile_copies_test.ts: two copies of secmem in one
 * thread. Copy A (`argv[0]`, a module URL) hands out views inside its read
 * and write scopes; copy B (`argv[1]`) takes them with `from()`,
 * `pool.from()` and `fromStream()`. B must copy the bytes and leave A's
 * memory as it was: a wipe zeroes A's secret in a write scope and faults in
 * a read scope (SIGSEGV), so this runs in a process of its own. Then B is
 * given ordinary heap arrays while A's memory is open, which it must still
 * wipe unless they could be A's memory. It prints one line per case:
 * `case <name> intact <bool> copy <bool>`, then `heap <count wiped> of
 * <count>`, then `done <count>`.
 *
 * @module
 */

type Secret = {
  equals(bytes: Uint8Array): boolean;
  destroy(): void;
  read<T>(fn: (view: Uint8Array) => T): T;
  write<T>(fn: (view: Uint8Array) => T): T;
};

interface Copy {
  SecretBuffer: {
    from(bytes: Uint8Array): Secret;
    fromStream(stream: AsyncIterable<Uint8Array>): Promise<Secret>;
  };
  SecretPool: new (options?: { rest?: string }) => {
    from(bytes: Uint8Array): Secret;
    destroy(): unknown;
  };
}

const [first, second] = argsOf();
const a = await import(first) as Copy;
const b = await import(second) as Copy;
if (a.SecretBuffer === b.SecretBuffer) throw new Error("one copy, not two");

const bPool = new b.SecretPool();
const aPool = new a.SecretPool();
const aAiry = new a.SecretPool({ rest: "readwrite" });

const makers: Record<string, (source: Uint8Array) => Promise<Secret>> = {
  from: (source) => Promise.resolve(b.SecretBuffer.from(source)),
  "pool.from": (source) => Promise.resolve(bPool.from(source)),
  fromStream: (source) =>
    b.SecretBuffer.fromStream((async function* () {
      yield source;
    })()),
};

// The views copy A hands out, and views a caller makes over them.
const forms: Record<string, (view: Uint8Array) => Uint8Array> = {
  view: (view) => view,
  "subarray(1)": (view) => view.subarray(1),
  "new view": (view) => new Uint8Array(view.buffer),
};

const owners: Record<string, (bytes: Uint8Array) => Secret> = {
  buffer: (bytes) => a.SecretBuffer.from(bytes.slice()),
  slot: (bytes) => aPool.from(bytes.slice()),
  "readwrite slot": (bytes) => aAiry.from(bytes.slice()),
};

let count = 0;
for (const [ownerName, make] of Object.entries(owners)) {
  for (const [makerName, maker] of Object.entries(makers)) {
    for (const [formName, form] of Object.entries(forms)) {
      for (const kind of ["write", "read"] as const) {
        const bytes = new Uint8Array(32);
        for (let i = 0; i < 32; i++) bytes[i] = (i * 29 + count * 7 + 1) & 0xff;
        const secret = make(bytes);
        const source = formName === "subarray(1)" ? bytes.subarray(1) : bytes;
        // A's scope stays open while B works (fromStream is async).
        const copy = await secret[kind]((view) => maker(form(view)));
        const intact = secret.equals(bytes);
        const equal = copy.equals(source);
        console.log(
          `case ${ownerName} ${makerName} ${formName} ${kind} intact ${intact} copy ${equal}`,
        );
        copy.destroy();
        secret.destroy();
        count++;
      }
    }
  }
}

// Heap arrays handed to B while A's memory is open: wiped, except one that
// could be A's open memory (its first bytes are found there: B cannot tell
// without a probe it may not make, so it copies without wiping).
let wiped = 0;
let heap = 0;
const open = a.SecretBuffer.from(new Uint8Array(48).fill(0x3c));
await open.read(async (view) => {
  for (const [, maker] of Object.entries(makers)) {
    for (const length of [16, 32, 200]) {
      const source = new Uint8Array(length);
      for (let i = 0; i < length; i++) source[i] = (i * 13 + length) & 0xff;
      (await maker(source)).destroy();
      heap++;
      if (source.every((byte) => byte === 0)) wiped++;
    }
  }
  // A's bytes copied onto the heap: kept, not wiped, not faulted.
  const copy = view.slice();
  (await makers.from(copy)).destroy();
  console.log(`heap copy of open bytes kept ${copy[0] === 0x3c}`);
});
console.log(`open intact ${open.equals(new Uint8Array(48).fill(0x3c))}`);
open.destroy();
console.log(`heap ${wiped} of ${heap}`);
bPool.destroy();
aPool.destroy();
aAiry.destroy();
console.log(`done ${count}`);

function argsOf(): string[] {
  const host = globalThis as unknown as {
    Deno?: { args: string[] };
    process: { argv: string[] };
  };
  return host.Deno?.args ?? host.process.argv.slice(2);
}
