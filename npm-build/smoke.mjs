/**
 * The smoke suite for the packed npm package, run as a user runs it: plain
 * JavaScript in a project that installed the tarball. `test_package.sh`
 * copies it there and runs it under Node, Bun and Deno. The module to test
 * is the first argument (default `secmem`; Deno passes `npm:secmem`).
 * Prints `ok`/`not ok` per check and `smoke: N passed, N failed`; exits 1 on
 * a failure.
 *
 * With `--expect-no-ffi` it checks instead what a runtime without FFI
 * (Node before 26.1) must do: import fine, refuse the first allocation.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { inspect } from "node:util";

const args = globalThis.Deno?.args ?? globalThis.process.argv.slice(2);
const expectNoFfi = args.includes("--expect-no-ffi");
const specifier = args.find((arg) => !arg.startsWith("--")) ?? "secmem";
const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";

let passed = 0;
let failed = 0;

async function check(name, body) {
  try {
    await body();
    passed++;
    console.log(`ok - ${runtime}: ${name}`);
  } catch (error) {
    failed++;
    console.log(`not ok - ${runtime}: ${name}: ${error?.stack ?? error}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function throwsCode(fn, code) {
  try {
    fn();
  } catch (error) {
    assert(
      error?.name === "SecretMemoryError" && error.code === code,
      `expected SecretMemoryError ${code}, got ${error?.name} ${error?.code}: ${error?.message}`,
    );
    return error;
  }
  throw new Error(`expected SecretMemoryError ${code}, nothing was thrown`);
}

/** The VmFlags of the mapping that holds `address`, from /proc/self/smaps. */
function vmFlags(address) {
  const smaps = readFileSync("/proc/self/smaps", "utf8");
  for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const [start, end] = block.slice(0, block.indexOf(" ")).split("-");
    if (BigInt(`0x${start}`) <= address && address < BigInt(`0x${end}`)) {
      return (block.match(/^VmFlags:(.*)$/m)?.[1] ?? "").trim().split(/\s+/);
    }
  }
  return undefined;
}

const secmem = await import(specifier);
const { SecretBuffer, SecretMemoryError } = secmem;

if (expectNoFfi) {
  await check("importing works without FFI", () => {
    assert(typeof SecretBuffer === "function", "SecretBuffer is not exported");
  });
  await check(
    "the first allocation throws FFI_UNAVAILABLE naming Node 26",
    () => {
      const error = throwsCode(() => SecretBuffer.alloc(32), "FFI_UNAVAILABLE");
      assert(error instanceof SecretMemoryError, "not a SecretMemoryError");
      assert(/Node 26/.test(error.message), `message: ${error.message}`);
    },
  );
} else {
  await check("exports", () => {
    for (
      const name of [
        "SecretBuffer",
        "SecretMemoryError",
        "capabilities",
        "stats",
      ]
    ) {
      assert(name in secmem, `${name} is not exported`);
    }
    assert(secmem.capabilities().runtime === runtime, "capabilities().runtime");
  });

  await check("alloc is zero-filled and rests in noaccess", () => {
    const buffer = SecretBuffer.alloc(32);
    assert(buffer.size === 32, `size ${buffer.size}`);
    assert(buffer.state === "noaccess", `state ${buffer.state}`);
    const zero = buffer.read((bytes) =>
      bytes.length === 32 && bytes.every((b) => b === 0)
    );
    assert(zero, "alloc(32) is not 32 zero bytes");
    buffer.destroy();
  });

  await check("random fills from the OS and differs between buffers", () => {
    const a = SecretBuffer.random(32);
    const b = SecretBuffer.random(32);
    assert(
      a.read((bytes) => bytes.some((byte) => byte !== 0)),
      "random(32) is all zero",
    );
    assert(!a.equals(b), "two random(32) buffers are equal");
    a.destroy();
    b.destroy();
  });

  await check(
    "write then read round-trips, state restored after each scope",
    () => {
      const buffer = SecretBuffer.alloc(16);
      buffer.write((bytes) => {
        assert(buffer.state === "readwrite", `state in write ${buffer.state}`);
        for (let i = 0; i < 16; i++) bytes[i] = i * 7;
      });
      assert(buffer.state === "noaccess", `state after write ${buffer.state}`);
      const sum = buffer.read((bytes) => {
        assert(buffer.state === "readonly", `state in read ${buffer.state}`);
        return bytes.reduce(
          (total, byte, i) => total + (byte === i * 7 ? 1 : 0),
          0,
        );
      });
      assert(sum === 16, `${16 - sum} bytes differ`);
      buffer.destroy();
    },
  );

  await check(
    "from copies and wipes the source; equals compares contents",
    () => {
      const source = new Uint8Array([1, 2, 3, 4, 5]);
      const buffer = SecretBuffer.from(source);
      assert(source.every((byte) => byte === 0), "source not wiped");
      assert(
        buffer.equals(new Uint8Array([1, 2, 3, 4, 5])),
        "equal bytes compare unequal",
      );
      assert(
        !buffer.equals(new Uint8Array([1, 2, 3, 4, 6])),
        "unequal bytes compare equal",
      );
      const twin = SecretBuffer.from(new Uint8Array([1, 2, 3, 4, 5]));
      assert(buffer.equals(twin), "equal buffers compare unequal");
      buffer.destroy();
      twin.destroy();
    },
  );

  await check(
    "smaps shows the data pages locked, dontdump, wipe-on-fork",
    () => {
      const buffer = SecretBuffer.random(32);
      const flags = vmFlags(buffer.address);
      assert(flags !== undefined, "no mapping holds the buffer's address");
      for (const flag of ["lo", "dd", "wf"]) {
        assert(
          flags.includes(flag),
          `VmFlags lack ${flag}: ${flags.join(" ")}`,
        );
      }
      buffer.destroy();
    },
  );

  await check("destroy unmaps; use after destroy throws DESTROYED", () => {
    const buffer = SecretBuffer.random(32);
    const address = buffer.address;
    let kept;
    buffer.read((bytes) => {
      kept = bytes;
    });
    buffer.destroy();
    buffer.destroy();
    assert(buffer.state === "destroyed", `state ${buffer.state}`);
    assert(
      kept.length === 0,
      `a view kept across destroy has ${kept.length} bytes`,
    );
    const flags = vmFlags(address);
    assert(
      flags === undefined || !flags.includes("lo"),
      "the locked mapping is still there",
    );
    throwsCode(() => buffer.read(() => 0), "DESTROYED");
    throwsCode(() => buffer.write(() => 0), "DESTROYED");
  });

  await check("Symbol.dispose destroys", () => {
    const buffer = SecretBuffer.alloc(8);
    buffer[Symbol.dispose]();
    assert(buffer.state === "destroyed", `state ${buffer.state}`);
  });

  await check("String, JSON and inspect are redacted", () => {
    const buffer = SecretBuffer.from(
      new Uint8Array([0x73, 0x65, 0x63, 0x72, 0x65, 0x74]),
    );
    const description = "SecretBuffer(6 bytes, noaccess)";
    assert(String(buffer) === description, `String: ${String(buffer)}`);
    assert(`${buffer}` === description, `template: ${buffer}`);
    assert(
      JSON.stringify({ key: buffer }) === JSON.stringify({ key: description }),
      `JSON: ${JSON.stringify({ key: buffer })}`,
    );
    const shown = globalThis.Deno
      ? globalThis.Deno.inspect(buffer)
      : inspect(buffer);
    assert(shown.includes(description), `inspect: ${shown}`);
    assert(!/secret|115/.test(shown), `inspect shows content: ${shown}`);
    buffer.destroy();
  });

  await check("bad sizes throw INVALID_SIZE", () => {
    for (const size of [-1, 1.5, Number.NaN, Infinity]) {
      throwsCode(() => SecretBuffer.alloc(size), "INVALID_SIZE");
    }
  });

  await check("stats count live buffers", () => {
    const before = secmem.stats().liveBuffers;
    const buffer = SecretBuffer.alloc(8);
    assert(
      secmem.stats().liveBuffers === before + 1,
      "live count did not rise",
    );
    buffer.destroy();
    assert(secmem.stats().liveBuffers === before, "live count did not fall");
  });

  await check("the ./enclave entry seals and opens", async () => {
    const { Enclave } = await import(`${specifier}/enclave`);
    const source = SecretBuffer.from(new Uint8Array([5, 6, 7]));
    const enclave = Enclave.seal(source);
    assert(source.state === "destroyed", "the source was not destroyed");
    const opened = enclave.open();
    assert(opened.equals(new Uint8Array([5, 6, 7])), "opened content differs");
    assert(!String(enclave).includes("5, 6, 7"), "the enclave is not redacted");
    opened.destroy();
    enclave.destroy();
  });
}

console.log(`smoke: ${passed} passed, ${failed} failed`);
if (failed > 0) {
  if (globalThis.Deno) globalThis.Deno.exitCode = 1;
  else globalThis.process.exitCode = 1;
}
