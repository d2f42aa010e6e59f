/**
 * Child for tests/hostile_guarded_test.ts: new views from the first byte
 * of a guarded buffer (`new Uint8Array(view.buffer)`, `view.subarray(0)`)
 * handed to `from()`, `pool.from()` and `fromStream()` inside read and
 * write scopes. A wipe of such a view faults in a read scope (SIGSEGV) and
 * zeroes the other secret in a write scope, so this runs in a process of
 * its own. It prints one line per case: `case <name> intact <bool> copy
 * <bool>`, then `done <count>`.
 *
 * @module
 */

import { SecretBuffer, SecretPool } from "../../mod.ts";

type Make = (source: Uint8Array) => Promise<{
  equals(bytes: Uint8Array): boolean;
  destroy(): void;
}>;

const pool = new SecretPool();
const airy = new SecretPool({ rest: "readwrite" });

const makers: Record<string, Make> = {
  from: (source) => Promise.resolve(SecretBuffer.from(source)),
  "pool.from": (source) => Promise.resolve(pool.from(source)),
  "fromStream chunk": (source) =>
    SecretBuffer.fromStream((async function* () {
      yield source;
    })()),
  "fromStream ReadableStream": (source) =>
    SecretBuffer.fromStream(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(source);
          controller.close();
        },
      }),
    ),
};

const forms: Record<string, (view: Uint8Array) => Uint8Array> = {
  "new view": (view) => new Uint8Array(view.buffer),
  "subarray(0)": (view) => view.subarray(0),
  "prefix view": (view) => new Uint8Array(view.buffer, 0, 2),
};

// A view transferred away inside the scope: the transferred buffer is no
// longer known by identity, but it is still our memory.
const transferred: Record<string, (view: Uint8Array) => Uint8Array> = {
  "transferred": (view) =>
    new Uint8Array((view.buffer as ArrayBuffer).transfer()),
  "transferred subarray(1)": (view) =>
    new Uint8Array((view.buffer as ArrayBuffer).transfer()).subarray(1),
};

interface Owner {
  name: string;
  bytes: Uint8Array;
  make(): {
    read<T>(fn: (view: Uint8Array) => T): T;
    write<T>(fn: (view: Uint8Array) => T): T;
    equals(bytes: Uint8Array): boolean;
    destroy(): void;
  };
}

const owners: Owner[] = [
  {
    name: "buffer",
    bytes: new Uint8Array([0x11, 0x22, 0x33, 0x44, 0x55]),
    make() {
      return SecretBuffer.fromHex("1122334455");
    },
  },
  {
    // Longer than the bytes compared before the probe decides.
    name: "long buffer",
    bytes: new Uint8Array(40).map((_, i) => i * 7 + 3),
    make() {
      return SecretBuffer.from(new Uint8Array(40).map((_, i) => i * 7 + 3));
    },
  },
  {
    name: "slot",
    bytes: new Uint8Array([0x66, 0x77, 0x88]),
    make() {
      return pool.from(new Uint8Array([0x66, 0x77, 0x88]));
    },
  },
  {
    name: "readwrite slot",
    bytes: new Uint8Array([0x99, 0xaa, 0xbb, 0xcc]),
    make() {
      return airy.from(new Uint8Array([0x99, 0xaa, 0xbb, 0xcc]));
    },
  },
];

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [mode, which] = host.Deno?.args ?? host.process.argv.slice(2);

if (mode === "still-readonly") {
  // Telling a caller's copy from our own view may open the page for an
  // instant: the read scope's page must be read-only again afterwards.
  const owner = owners.find((entry) => entry.name === which)!;
  const secret = owner.make();
  secret.read((view) => {
    SecretBuffer.from(view.slice()).destroy();
    console.log(`intact ${view[0] === owner.bytes[0]}`);
    console.log("writing");
    view[0] ^= 1;
    console.log("wrote");
  });
  console.log("scope closed");
} else await cases();

/** Every owner × way in × view form × scope kind; returns the count. */
async function run(
  viewForms: Record<string, (view: Uint8Array) => Uint8Array>,
): Promise<number> {
  let count = 0;
  for (const owner of owners) {
    for (const [makerName, make] of Object.entries(makers)) {
      for (const [formName, form] of Object.entries(viewForms)) {
        for (const kind of ["read", "write"] as const) {
          const secret = owner.make();
          let expected = new Uint8Array(0);
          const copy = await secret[kind](async (view) => {
            const source = form(view);
            expected = source.slice();
            return await make(source);
          });
          const intact = secret.equals(owner.bytes);
          const equal = copy.equals(expected);
          console.log(
            `case ${owner.name} ${makerName} ${formName} ${kind} intact ${intact} copy ${equal}`,
          );
          copy.destroy();
          secret.destroy();
          count++;
        }
      }
    }
  }
  return count;
}

async function cases(): Promise<void> {
  let count = await run(forms);
  count += await run(transferred);

  // A view the library lends to a file object's write(): new views over it
  // are the source buffer's own memory, read-only while writeTo runs.
  {
    const secret = SecretBuffer.fromHex("0a0b0c0d");
    const copies: SecretBuffer[] = [];
    await secret.writeTo({
      read: () => Promise.resolve(null),
      write(view: Uint8Array) {
        copies.push(SecretBuffer.from(new Uint8Array(view.buffer)));
        return Promise.resolve(1);
      },
    } as unknown as number);
    const intact = secret.equals(new Uint8Array([0x0a, 0x0b, 0x0c, 0x0d]));
    const equal = copies.length === 4 &&
      copies[3].equals(new Uint8Array([0x0d])) &&
      copies[0].equals(new Uint8Array([0x0a, 0x0b, 0x0c, 0x0d]));
    console.log(
      `case lent writeTo new view read intact ${intact} copy ${equal}`,
    );
    for (const copy of copies) copy.destroy();
    secret.destroy();
    count++;
  }

  // A readwrite pool's slot view kept past its scope is still readable:
  // a new view over it must still be recognised.
  {
    const slot = airy.from(new Uint8Array([5, 6, 7]));
    const kept = slot.read((view) => new Uint8Array(view.buffer));
    const copy = SecretBuffer.from(kept);
    const intact = slot.equals(new Uint8Array([5, 6, 7]));
    console.log(
      `case kept readwrite slot from new view rest intact ${intact} copy ${
        copy.equals(new Uint8Array([5, 6, 7]))
      }`,
    );
    copy.destroy();
    slot.destroy();
    count++;
  }

  pool.destroy();
  airy.destroy();
  console.log(`done ${count}`);
}
