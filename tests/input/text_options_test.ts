/**
 * Key files as people write them: `{ trim: true }` drops one trailing line
 * ending, `{ encoding }` decodes hex or base64 text (whitespace allowed)
 * into guarded memory, on every input that takes them (file, descriptor,
 * stream). Bad text and bad option values are typed errors that leave
 * nothing mapped. (The forensic proof that the text leaves no copy is in
 * input_forensics_test.ts.)
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretBuffer, SecretMemoryError, stats } from "../../mod.ts";
import { test } from "../_harness.ts";
import { isWindows } from "../_platform.ts";

const folder = mkdtempSync(join(tmpdir(), "secmem-text-options-"));
let serial = 0;
function file(content: string | Uint8Array): string {
  const path = join(folder, `key-${serial++}`);
  writeFileSync(path, content);
  return path;
}
const bytes = (secret: SecretBuffer): number[] =>
  secret.read((view) => Array.from(view));
const key = Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const hex = key.map((b) => b.toString(16).padStart(2, "0")).join("");
const base64 = btoa(String.fromCharCode(...key));

test("trim drops one \\n or \\r\\n at the end, and nothing else", () => {
  const cases: [string, string][] = [
    ["secret\n", "secret"],
    ["secret\r\n", "secret"],
    ["secret", "secret"],
    ["secret\n\n", "secret\n"],
    ["secret\r", "secret\r"],
    [" secret \n", " secret "],
    ["\n", ""],
    ["", ""],
  ];
  for (const [content, expected] of cases) {
    using read = SecretBuffer.fromFileSync(file(content), { trim: true });
    assert.deepEqual(
      bytes(read),
      Array.from(new TextEncoder().encode(expected)),
      JSON.stringify(content),
    );
  }
  using untrimmed = SecretBuffer.fromFileSync(file("secret\n"));
  assert.equal(untrimmed.size, 7, "without trim the newline is kept");
});

test("encoding decodes hex and base64 key files, with whitespace and line breaks", async () => {
  const spaced = hex.match(/.{1,8}/g)!.join(" ").replace(/(.{18})/g, "$1\n");
  const texts: [string, "hex" | "base64"][] = [
    [hex, "hex"],
    [hex.toUpperCase() + "\n", "hex"],
    [spaced + "\r\n", "hex"],
    [base64, "base64"],
    [base64.replace(/(.{20})/g, "$1\n") + "\n", "base64"],
    [base64.replace(/=+$/, ""), "base64"],
    [base64.replaceAll("+", "-").replaceAll("/", "_"), "base64"],
    ["\t " + base64 + " \t\n", "base64"],
  ];
  for (const [text, encoding] of texts) {
    using sync = SecretBuffer.fromFileSync(file(text), {
      trim: true,
      encoding,
    });
    assert.deepEqual(bytes(sync), key, `${encoding} ${JSON.stringify(text)}`);
    using viaAsync = await SecretBuffer.fromFile(file(text), { encoding });
    assert.deepEqual(bytes(viaAsync), key);
    // Descriptor numbers from node:fs are C runtime descriptors on
    // Windows, not the handles the Windows backend reads.
    if (!isWindows) {
      const fd = openSync(file(text), "r");
      try {
        using viaFd = SecretBuffer.fromFdSync(fd, { encoding });
        assert.deepEqual(bytes(viaFd), key);
      } finally {
        closeSync(fd);
      }
    }
    const chunks = new TextEncoder().encode(text);
    using viaStream = await SecretBuffer.fromStream(
      new ReadableStream<Uint8Array>({
        start(controller) {
          // Split in the middle of a digit pair and of a base64 group.
          controller.enqueue(chunks.slice(0, 5));
          controller.enqueue(chunks.slice(5));
          controller.close();
        },
      }),
      { encoding },
    );
    assert.deepEqual(bytes(viaStream), key);
  }
  using empty = SecretBuffer.fromFileSync(file("\n"), {
    trim: true,
    encoding: "hex",
  });
  assert.equal(empty.size, 0);
});

test("bad text is INVALID_ARGUMENT naming the position, and leaves nothing mapped", () => {
  const live = stats().liveBuffers;
  const cases: [string, "hex" | "base64", RegExp][] = [
    [hex.slice(0, 10) + "zz" + hex.slice(12), "hex", /"z" at byte 10/],
    [hex.slice(1), "hex", /odd number/],
    ["0x" + hex, "hex", /"x" at byte 1/],
    [base64.slice(0, 4) + "*" + base64.slice(5), "base64", /"\*" at byte 4/],
    [base64.slice(0, 5), "base64", /cannot be whole base64/],
    ["AB=C", "base64", /padding \("="\) at byte 2/],
    ["AB==\nAB==", "base64", /padding \("="\) at byte 2/],
    ["AR==", "base64", /unused bits/],
  ];
  for (const [text, encoding, message] of cases) {
    const path = file(text);
    assert.throws(
      () => SecretBuffer.fromFileSync(path, { encoding }),
      (error: unknown) => {
        assert(error instanceof SecretMemoryError);
        assert.equal(error.code, "INVALID_ARGUMENT");
        assert.match(error.message, message, `${encoding} ${text}`);
        assert.match(error.message, /the file/, "the error names the input");
        assert.doesNotMatch(error.message, new RegExp(hex.slice(0, 6)));
        return true;
      },
    );
  }
  assert.equal(stats().liveBuffers, live, "nothing left mapped");
});

test("trim and encoding refuse values that are not theirs", () => {
  const path = file(hex);
  for (
    const options of [
      { trim: "yes" },
      { trim: 1 },
      { encoding: "utf8" },
      { encoding: "HEX" },
      { encoding: null },
    ]
  ) {
    assert.throws(
      () =>
        SecretBuffer.fromFileSync(
          path,
          options as unknown as Parameters<typeof SecretBuffer.fromFileSync>[1],
        ),
      (error: unknown) =>
        error instanceof SecretMemoryError &&
        error.code === "INVALID_ARGUMENT" &&
        /as (trim|encoding)/.test(error.message),
      JSON.stringify(options),
    );
  }
  // A getter that lies is read once: the value it gave first is the one used.
  let reads = 0;
  const lying = {
    get encoding() {
      return reads++ === 0 ? "hex" : "base64";
    },
  };
  using read = SecretBuffer.fromFileSync(
    path,
    lying as unknown as { encoding: "hex" },
  );
  assert.deepEqual(bytes(read), key);
  assert.equal(reads, 1);
});

test("text option test files are removed", () => {
  // File by file: Bun under Wine fails a recursive rmSync with EFAULT.
  for (const name of readdirSync(folder)) unlinkSync(join(folder, name));
  rmdirSync(folder);
});
