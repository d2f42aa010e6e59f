/**
 * The allocation recipe against a fake native layer: the order of steps, the
 * syscall budget, the lock policy, and cleanup after every kind of failure.
 *
 * @module
 */

import { useNativeForTesting } from "../../src/core/_native.ts";
import { stats } from "../../src/core/_registry.ts";
import { heldMappings } from "../../src/core/_map_limit.ts";
import { SecretBuffer } from "../../src/secret_buffer.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "../_error_code.ts";
import { createFake, type Fake, type FakeOptions } from "../_fake_native.ts";
import { test } from "../_harness.ts";

const PAGE = 4096;

/**
 * Runs `body` with a fresh fake installed. The fake's first allocation also
 * maps its canary batch (reserve, commit unlocked, fillRandom); `warm` does
 * that first so the calls a test sees are the buffer's own.
 */
function withFake(
  options: FakeOptions & { warm?: boolean },
  body: (fake: Fake) => void,
): void {
  const fake = createFake(options);
  useNativeForTesting(fake.memory);
  try {
    if (options.warm ?? true) {
      SecretBuffer.alloc(1, { lock: "best-effort" }).destroy();
      fake.calls.length = 0;
    }
    body(fake);
  } finally {
    useNativeForTesting(undefined);
  }
}

test("alloc then destroy follows the fixed order within 7 system calls", () => {
  withFake({}, (fake) => {
    const buffer = SecretBuffer.alloc(32);
    assert.deepEqual(fake.calls, [
      "reserve", // mmap PROT_NONE: guard + data + guard
      "commit:locked", // mmap MAP_FIXED|MAP_LOCKED over the data pages
      "keepOutOfDumpsAndForks", // madvise DONTDUMP, madvise WIPEONFORK
      "protect:noaccess", // mprotect: rest
    ]);
    fake.calls.length = 0;
    buffer.destroy();
    // mprotect to open, wipe (a libc call, no syscall), munmap.
    assert.deepEqual(fake.calls, ["protect:readwrite", "wipe", "release"]);
  });
});

test("random fills the pages before they close: no extra protection change", () => {
  withFake({}, (fake) => {
    const buffer = SecretBuffer.random(32);
    assert.deepEqual(fake.calls, [
      "reserve",
      "commit:locked",
      "keepOutOfDumpsAndForks",
      "fillRandom",
      "protect:noaccess",
    ]);
    const content = buffer.read((bytes) => [...bytes]);
    assert(content.some((b) => b !== 0), "random bytes reach the view");
    buffer.destroy();
  });
});

test("destroy unmaps the three pages it mapped", () => {
  withFake({}, (fake) => {
    const before = fake.mapped();
    const buffer = SecretBuffer.random(100);
    assert.deepEqual(fake.mapped(), before + 3 * PAGE);
    buffer.destroy();
    assert.deepEqual(fake.mapped(), before);
  });
});

test("destroy whose unmap throws: the error reaches the caller and the mapping is still counted as held", () => {
  // The warm-up's destroy is the first release; this buffer's, the second.
  withFake({ failOn: { name: "release", nth: 2 } }, (fake) => {
    const buffer = SecretBuffer.random(100);
    const held = heldMappings();
    assert.throws(() => buffer.destroy(), /fake: release failed on purpose/);
    assert.equal(heldMappings(), held, "still mapped, so still held");
    assert.deepEqual(fake.calls.slice(-2), ["wipe", "release"]);
    const other = SecretBuffer.alloc(8);
    other.destroy();
    assert.equal(heldMappings(), held, "a release that works counts once");
  });
});

test("the wipe covers the whole data page, not only the user bytes", () => {
  withFake({}, (fake) => {
    const buffer = SecretBuffer.from(new Uint8Array(40).fill(0xaa));
    const dataStart = buffer.address + 40n - BigInt(PAGE);
    // Put a marker in the slack, far from the user bytes, natively.
    buffer.protect("readwrite");
    fake.memory.fillRandom(dataStart, 64);
    buffer.protect("noaccess");
    let wiped: Uint8Array | undefined;
    const release = fake.memory.release;
    fake.memory.release = (address, length) => {
      wiped = fake.peek(dataStart, PAGE);
      release(address, length);
    };
    buffer.destroy();
    fake.memory.release = release;
    assert(wiped !== undefined, "release was reached");
    assert(wiped.every((b) => b === 0), "every data byte is zero before unmap");
  });
});

test("a refused lock raises the soft limit once, then throws MEMLOCK_LIMIT with nothing mapped", () => {
  withFake({ lockRefusals: 99, canRaise: true }, (fake) => {
    const before = fake.mapped();
    const live = stats().liveBuffers;
    const error = assertThrowsCode(
      () => SecretBuffer.alloc(32),
      "MEMLOCK_LIMIT",
    );
    assert(error.message.includes("ulimit -l"), "says how to raise the limit");
    assert(error.message.includes("65536 bytes"), "names the limit");
    assert(
      error.message.includes("Cannot lock 4096 bytes"),
      "names the request",
    );
    assert.deepEqual(
      fake.calls.filter((c) => c === "raiseLockLimit").length,
      1,
    );
    assert.deepEqual(fake.calls.filter((c) => c === "commit:locked").length, 2);
    assert.deepEqual(fake.mapped(), before);
    assert.deepEqual(stats().liveBuffers, live);
  });
});

test("a limit that cannot be raised is not retried", () => {
  withFake({ lockRefusals: 99, canRaise: false }, (fake) => {
    assertThrowsCode(() => SecretBuffer.alloc(32), "MEMLOCK_LIMIT");
    assert.deepEqual(fake.calls.filter((c) => c === "commit:locked").length, 1);
  });
});

test("after a raised limit the second lock succeeds", () => {
  withFake({ lockRefusals: 1, canRaise: true }, () => {
    const locked = stats().lockedBytes;
    const buffer = SecretBuffer.alloc(8);
    assert.deepEqual(stats().lockedBytes, locked + PAGE);
    buffer.destroy();
  });
});

test("best-effort falls back to unlocked pages and stats count them as unlocked", () => {
  withFake({ lockRefusals: 99 }, (fake) => {
    const locked = stats().lockedBytes;
    const buffer = SecretBuffer.alloc(8, { lock: "best-effort" });
    assert(fake.calls.includes("commit:unlocked"));
    assert.deepEqual(stats().lockedBytes, locked);
    buffer.destroy();
  });
});

// The canary batch is mapped (reserve, commit unlocked, fillRandom) after
// keepOutOfDumpsAndForks, so fillRandom's first call is the batch's and the second the
// buffer's.
const failures: [string, number][] = [
  ["reserve", 1],
  ["commit", 1],
  ["keepOutOfDumpsAndForks", 1],
  ["fillRandom", 2],
  ["protect", 1],
];
for (const [step, nth] of failures) {
  test(`a failure in ${step} during creation leaves nothing mapped`, () => {
    withFake({ warm: false, failOn: { name: step, nth } }, (fake) => {
      const live = stats().liveBuffers;
      let threw = false;
      try {
        SecretBuffer.random(16);
      } catch (error) {
        threw = String(error).includes("failed on purpose");
      }
      assert(threw, `the ${step} failure reaches the caller`);
      // Only the canary batch (one page), if it was reached, may remain.
      const batchMapped = fake.calls.includes("commit:unlocked");
      assert.deepEqual(fake.mapped(), batchMapped ? PAGE : 0);
      assert.deepEqual(stats().liveBuffers, live);
      if (
        step === "fillRandom" || step === "protect" ||
        step === "keepOutOfDumpsAndForks"
      ) {
        assert(
          fake.calls.includes("wipe"),
          "committed pages are wiped before unmap",
        );
      }
    });
  });
}

test("placement start puts the first user byte on a page boundary and the canary after it", () => {
  withFake({}, () => {
    const buffer = SecretBuffer.alloc(100, { placement: "start" });
    assert.deepEqual(buffer.address % BigInt(PAGE), 0n);
    buffer.destroy();
    const end = SecretBuffer.alloc(100);
    assert.deepEqual((end.address + 100n) % BigInt(PAGE), 0n);
    end.destroy();
  });
});

test("a scope opens the pages once and closes them once, nesting included", () => {
  withFake({}, (fake) => {
    const buffer = SecretBuffer.alloc(4);
    fake.calls.length = 0;
    buffer.read(() => buffer.read(() => buffer.read(() => 0)));
    assert.deepEqual(fake.calls, ["protect:readonly", "protect:noaccess"]);
    fake.calls.length = 0;
    buffer.write(() => buffer.read(() => 0));
    assert.deepEqual(fake.calls, ["protect:readwrite", "protect:noaccess"]);
    buffer.destroy();
  });
});
