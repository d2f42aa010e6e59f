/**
 * age v1 files against the `age` CLI (installed from apt when missing):
 * files secmem writes are opened by age and files age writes are opened by
 * secmem, for X25519 recipients and for passphrases, binary and armored,
 * from 0 bytes to 3 MiB. Then the bad files: a header MAC mismatch,
 * unknown stanzas, a low-order share, scrypt beside another stanza, an
 * absurd work factor, and a STREAM reordered, truncated or extended; each
 * gets a typed error and leaves nothing mapped.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { SecretBuffer, stats } from "../mod.ts";
import { hkdf, hmac } from "../crypto.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { X25519Key } from "../keys.ts";
import { ageRecipientOf as encodeRecipient } from "../src/keys/_age_keys.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { ensureTools, onTerminal, scratch, toolOk } from "./_tools.ts";

const SIZES = [0, 1, 65535, 65536, 65537, 3 * 1024 * 1024];
const BEST_EFFORT = { lock: "best-effort" as const };
const text = (s: string) => new TextEncoder().encode(s);

function plaintextOf(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = size + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sameAs(buffer: SecretBuffer, expected: Uint8Array): boolean {
  return buffer.size === expected.length &&
    buffer.read((view) => {
      for (let i = 0; i < expected.length; i++) {
        if (view[i] !== expected[i]) return false;
      }
      return true;
    });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function leavesNothing(fn: () => void, what: string): void {
  const before = JSON.stringify(stats());
  fn();
  assert.equal(
    JSON.stringify(stats()),
    before,
    `${what}: left something mapped`,
  );
}

const table: string[] = [];

test("age X25519: secmem's files open with age -d, age's files open with secmem (0 B to 3 MiB, binary and armored)", () => {
  ensureTools();
  const { dir, done } = scratch();
  try {
    const identityPath = join(dir, "key.txt");
    toolOk(["age-keygen", "-o", identityPath]);
    using identity = X25519Key.fromAgeIdentity(
      SecretBuffer.fromFileSync(identityPath),
    );
    const recipient = identity.ageRecipient;
    for (const size of SIZES) {
      const plain = plaintextOf(size);
      for (const armor of [false, true]) {
        const form = armor ? "armored" : "binary";
        // secmem -> age
        const ours = ageEncrypt(plain, { recipients: [recipient], armor });
        const ourPath = join(dir, `ours-${size}-${form}.age`);
        writeFileSync(ourPath, ours);
        const opened = toolOk(["age", "-d", "-i", identityPath, ourPath]);
        assert.ok(
          sameBytes(opened, plain),
          `age opens secmem's ${form} ${size}`,
        );
        // age -> secmem
        const inPath = join(dir, `in-${size}`);
        writeFileSync(inPath, plain);
        const theirs = toolOk([
          "age",
          "-r",
          recipient,
          ...(armor ? ["-a"] : []),
          inPath,
        ]);
        using back = ageDecrypt(theirs, { identities: [identity] });
        assert.ok(sameAs(back, plain), `secmem opens age's ${form} ${size}`);
        table.push(
          `| X25519 | ${size} | ${form} | age -d opens secmem's | secmem opens age -r's |`,
        );
      }
    }
    // A SecretBuffer plaintext, and several recipients of which one is ours.
    using other = X25519Key.generate();
    using secretPlain = SecretBuffer.from(plaintextOf(70000));
    const file = ageEncrypt(secretPlain, {
      recipients: [other.ageRecipient, recipient],
    });
    writeFileSync(join(dir, "two.age"), file);
    assert.ok(
      sameBytes(
        toolOk(["age", "-d", "-i", identityPath, join(dir, "two.age")]),
        plaintextOf(70000),
      ),
    );
  } finally {
    done();
  }
});

test("age X25519, many recipients: age's file to 128 (age sets no limit) opens with secmem, and secmem's to 128 opens with age -d", () => {
  ensureTools();
  const { dir, done } = scratch();
  const keys = Array.from({ length: 127 }, () => X25519Key.generate());
  try {
    const identityPath = join(dir, "key.txt");
    toolOk(["age-keygen", "-o", identityPath]);
    using identity = X25519Key.fromAgeIdentity(
      SecretBuffer.fromFileSync(identityPath),
    );
    // Ours last: every stanza before it is tried first.
    const recipients = [
      ...keys.map((k) => k.ageRecipient),
      identity.ageRecipient,
    ];
    const plain = plaintextOf(1000);
    const inPath = join(dir, "in");
    writeFileSync(inPath, plain);
    const theirs = toolOk([
      "age",
      ...recipients.flatMap((r) => ["-r", r]),
      inPath,
    ]);
    using back = ageDecrypt(theirs, { identities: [identity] });
    assert.ok(sameAs(back, plain), "secmem opens age's file to 128");
    const ours = ageEncrypt(plain, { recipients });
    writeFileSync(join(dir, "ours.age"), ours);
    assert.ok(
      sameBytes(
        toolOk(["age", "-d", "-i", identityPath, join(dir, "ours.age")]),
        plain,
      ),
      "age opens secmem's file to 128",
    );
  } finally {
    for (const key of keys) key.destroy();
    done();
  }
});

test("age scrypt: secmem's passphrase files open with age -d, age -p's open with secmem", () => {
  ensureTools();
  const { dir, done } = scratch();
  const words = "correct horse battery staple";
  try {
    using passphrase = SecretBuffer.from(text(words));
    for (const size of SIZES) {
      for (const armor of [false, true]) {
        const form = armor ? "armored" : "binary";
        const plain = plaintextOf(size);
        const ours = ageEncrypt(
          plain,
          { passphrase, armor, workFactor: 12 },
          BEST_EFFORT,
        );
        const path = join(dir, `p-${size}-${form}.age`);
        writeFileSync(path, ours);
        const outPath = join(dir, `p-${size}-${form}.out`);
        const run = onTerminal([["passphrase", `${words}\n`]], [
          "age",
          "-d",
          "-o",
          outPath,
          path,
        ]);
        assert.equal(run.status, 0, run.shown);
        // age creates its output file at the first byte it writes.
        const opened = size === 0 && !existsSync(outPath)
          ? new Uint8Array(0)
          : readFileSync(outPath);
        assert.ok(
          sameBytes(opened, plain),
          `age opens secmem's ${form} ${size}`,
        );
        table.push(
          `| scrypt | ${size} | ${form} | age -d opens secmem's | ${
            (size === 0 && !armor) || (size === SIZES.at(-1) && armor)
              ? "secmem opens age -p's"
              : "-"
          } |`,
        );
      }
    }
    // age -p always uses work factor 18 (256 MiB, about 10 s here in
    // TypeScript): two files, the smallest binary and the largest armored.
    for (const [size, armor] of [[0, false], [SIZES.at(-1)!, true]] as const) {
      const plain = plaintextOf(size);
      const inPath = join(dir, `pin-${size}`);
      const outPath = join(dir, `pin-${size}.age`);
      writeFileSync(inPath, plain);
      const run = onTerminal([
        ["passphrase", `${words}\n`],
        ["Confirm", `${words}\n`],
      ], [
        "age",
        "-p",
        ...(armor ? ["-a"] : []),
        "-o",
        outPath,
        inPath,
      ]);
      assert.equal(run.status, 0, run.shown);
      using back = ageDecrypt(
        readFileSync(outPath),
        { passphrase },
        BEST_EFFORT,
      );
      assert.ok(sameAs(back, plain), `secmem opens age -p's ${size}`);
    }
    using wrong = SecretBuffer.from(text("wrong"));
    const small = ageEncrypt(
      text("x"),
      { passphrase, workFactor: 10 },
      BEST_EFFORT,
    );
    leavesNothing(() => {
      assertThrowsCode(
        () => ageDecrypt(small, { passphrase: wrong }, BEST_EFFORT),
        "INVALID_ARGUMENT",
      );
    }, "wrong passphrase");
  } finally {
    done();
  }
  say("| recipient | bytes | form | secmem -> age | age -> secmem |");
  for (const row of table) say(row);
});

/** The file key of a secmem file to `identity`, recovered the slow way. */
function fileKeyOf(file: Uint8Array, identity: X25519Key): Uint8Array {
  const header = new TextDecoder().decode(file.subarray(0, 400)).split("\n");
  const share = Buffer.from(header[1].split(" ")[2], "base64");
  const body = Buffer.from(header[2], "base64");
  using shared = identity.agree(new Uint8Array(share));
  const salt = new Uint8Array([...share, ...identity.publicKey]);
  using key = hkdf("SHA-256", shared, {
    salt,
    info: text("age-encryption.org/v1/X25519"),
    length: 32,
  });
  return key.read((k) =>
    chacha20poly1305(k.slice(), new Uint8Array(12)).decrypt(body)
  );
}

/** `file` with its header replaced by `lines` (MAC'd again under `fileKey`). */
function withHeader(
  file: Uint8Array,
  lines: string[],
  fileKey: Uint8Array,
): Uint8Array {
  const text0 = new TextDecoder("latin1").decode(file);
  const macAt = text0.indexOf("\n--- ") + 1;
  const payload = file.subarray(text0.indexOf("\n", macAt) + 1);
  const start = lines.join("\n") + "\n---";
  using key = hkdf("SHA-256", SecretBuffer.from(fileKey.slice()), {
    info: text("header"),
    length: 32,
  });
  const mac = Buffer.from(hmac("SHA-256", key, text(start))).toString("base64")
    .replace(/=+$/, "");
  return new Uint8Array([...text(`${start} ${mac}\n`), ...payload]);
}

test("age bad files: MAC, stanzas, low-order shares, scrypt rules, STREAM order and length: typed errors, nothing mapped", () => {
  using identity = X25519Key.generate();
  const by = { identities: [identity] };
  const plain = plaintextOf(3 * 65536 + 100); // four chunks
  const file = ageEncrypt(plain, { recipients: [identity.ageRecipient] });
  const fileKey = fileKeyOf(file, identity);
  const lines = new TextDecoder().decode(file.subarray(0, 200)).split("\n")
    .slice(0, 3);
  const headerEnd = new TextDecoder("latin1").decode(file).indexOf(
    "\n",
    new TextDecoder("latin1").decode(file).indexOf("\n--- ") + 1,
  ) + 1;
  const payloadAt = headerEnd + 16;
  const sealed = 65536 + 16;
  const chunk = (i: number) =>
    file.subarray(
      payloadAt + i * sealed,
      Math.min(file.length, payloadAt + (i + 1) * sealed),
    );
  const rebuild = (order: number[]) =>
    new Uint8Array([
      ...file.subarray(0, payloadAt),
      ...order.flatMap((i) => [...chunk(i)]),
    ]);

  // Sanity: the helpers rebuild the file exactly, and an unknown stanza
  // beside a matching one is skipped, as the spec asks.
  assert.ok(
    sameBytes(withHeader(file, lines, fileKey), file),
    "the test's MAC matches secmem's",
  );
  using skipped = ageDecrypt(
    withHeader(file, [
      lines[0],
      "-> unknown-stanza x y",
      "AAAA",
      ...lines.slice(1),
    ], fileKey),
    by,
  );
  assert.ok(sameAs(skipped, plain), "an unknown stanza is skipped");

  const flipped = file.slice();
  flipped[lines[0].length + 10] ^= 1; // inside the X25519 share argument's base64
  const macFlipped = file.slice();
  // Another base64 digit, not the last (whose unused bits must stay
  // zero): still canonical base64, so only the MAC check can refuse it
  // (flipping a bit could make "+" a "*", refused as text instead).
  macFlipped[headerEnd - 5] = macFlipped[headerEnd - 5] === 0x41 ? 0x42 : 0x41;
  const lowOrder = new Uint8Array(32); // the point 0
  const cases: [string, Uint8Array, string][] = [
    ["header MAC changed", macFlipped, "INTEGRITY"],
    [
      "stanza body changed, MAC kept: no identity unwraps it",
      withHeaderKeepMac(file, 2),
      "INVALID_ARGUMENT",
    ],
    [
      "unknown stanza added, MAC kept",
      withOldMac(file, `-> unknown-stanza x\nAAAA\n`, lines[0].length + 1),
      "INTEGRITY",
    ],
    [
      "only an unknown stanza",
      withHeader(file, [lines[0], "-> unknown-stanza x", "AAAA"], fileKey),
      "INVALID_ARGUMENT",
    ],
    [
      "low-order share",
      withHeader(file, [
        lines[0],
        `-> X25519 ${
          Buffer.from(lowOrder).toString("base64").replace(/=+$/, "")
        }`,
        lines[2],
      ], fileKey),
      "INVALID_KEY",
    ],
    [
      "low-order share (u = 1)",
      withHeader(file, [
        lines[0],
        `-> X25519 ${
          Buffer.from([1, ...new Uint8Array(31)]).toString("base64").replace(
            /=+$/,
            "",
          )
        }`,
        lines[2],
      ], fileKey),
      "INVALID_KEY",
    ],
    [
      "scrypt beside X25519",
      withHeader(file, [
        ...lines,
        "-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10",
        Buffer.alloc(32).toString("base64").replace(/=+$/, ""),
      ], fileKey),
      "INVALID_ARGUMENT",
    ],
    ["chunks 0 and 1 swapped", rebuild([1, 0, 2, 3]), "INTEGRITY"],
    ["last chunk dropped", rebuild([0, 1, 2]), "INTEGRITY"],
    ["a chunk repeated at the end", rebuild([0, 1, 2, 3, 3]), "INTEGRITY"],
    ["a full chunk appended", rebuild([0, 1, 2, 3, 0]), "INTEGRITY"],
    [
      "an empty last chunk (a bare tag) appended",
      new Uint8Array([...file, ...new Uint8Array(16)]),
      "INTEGRITY",
    ],
    ["one byte cut", file.subarray(0, file.length - 1), "INTEGRITY"],
    ["one byte added", new Uint8Array([...file, 0]), "INTEGRITY"],
    [
      "payload nonce changed",
      (() => {
        const f = file.slice();
        f[headerEnd] ^= 1;
        return f;
      })(),
      "INTEGRITY",
    ],
    [
      "ciphertext byte changed",
      (() => {
        const f = file.slice();
        f[payloadAt + 5] ^= 1;
        return f;
      })(),
      "INTEGRITY",
    ],
    ["header cut", file.subarray(0, 60), "INVALID_ARGUMENT"],
    ["no payload nonce", file.subarray(0, headerEnd + 3), "INTEGRITY"],
    ["not age", text("hello\n"), "INVALID_ARGUMENT"],
    [
      "version v2",
      new Uint8Array([
        ...text("age-encryption.org/v2\n"),
        ...file.subarray(22),
      ]),
      "INVALID_ARGUMENT",
    ],
    ["share argument changed", flipped, "INVALID_ARGUMENT"],
  ];
  // A length whose armor ends in padding (the binary length mod 3 is not 0).
  let armoredText = "";
  for (let n = 1; !/=\n-----END/.test(armoredText); n++) {
    armoredText = new TextDecoder().decode(
      ageEncrypt(new Uint8Array(n), {
        recipients: [identity.ageRecipient],
        armor: true,
      }),
    );
  }
  cases.push(
    [
      "armor: text after the end line",
      text(armoredText + "x\n"),
      "INVALID_ARGUMENT",
    ],
    [
      "armor: a short line inside",
      text(
        armoredText.replace(
          /\n(.{64})\n/,
          (_m, l: string) => `\n${l.slice(0, 63)}\n${l.slice(63)}\n`,
        ),
      ),
      "INVALID_ARGUMENT",
    ],
    [
      "armor: padding removed",
      text(armoredText.replace(/=+\n-----END/, "\n-----END")),
      "INVALID_ARGUMENT",
    ],
  );
  using passphrase = SecretBuffer.from(text("pw"));
  const scryptFile = ageEncrypt(
    text("x"),
    { passphrase, workFactor: 10 },
    BEST_EFFORT,
  );
  const scryptText = new TextDecoder("latin1").decode(scryptFile);
  const absurd = text(scryptText.replace(/ 10\n/, " 40\n"));
  for (const [name, bad, code] of cases) {
    leavesNothing(() => {
      assertThrowsCode(
        () => ageDecrypt(bad, by).destroy(),
        code as "INTEGRITY",
        name,
      );
    }, name);
  }
  leavesNothing(() => {
    const error = assertThrowsCode(
      () => ageDecrypt(absurd, { passphrase }),
      "INVALID_ARGUMENT",
      "work factor 40",
    );
    assert.match(error.message, /work factor 40/);
    assertThrowsCode(
      () => ageDecrypt(scryptFile, by),
      "INVALID_ARGUMENT",
      "passphrase file, identities given",
    );
    assertThrowsCode(
      () => ageDecrypt(file, { passphrase }),
      "INVALID_ARGUMENT",
      "X25519 file, passphrase given",
    );
    assertThrowsCode(
      () => ageEncrypt(plain, {}),
      "INVALID_ARGUMENT",
      "no recipient",
    );
    assertThrowsCode(
      () =>
        ageEncrypt(plain, { recipients: [identity.ageRecipient], passphrase }),
      "INVALID_ARGUMENT",
      "both",
    );
    assertThrowsCode(
      () =>
        ageEncrypt(plain, {
          recipients: [encodeRecipient(new Uint8Array(32))],
        }),
      "INVALID_KEY",
      "low-order recipient",
    );
    const r = identity.ageRecipient;
    const typo = r.slice(0, 10) + (r[10] === "q" ? "p" : "q") + r.slice(11);
    assertThrowsCode(
      () => ageEncrypt(plain, { recipients: [typo] }),
      "INTEGRITY",
      "recipient checksum",
    );
  }, "argument errors");
  say(
    `  ${
      cases.length + 6
    } bad files and arguments refused with their codes, nothing left mapped`,
  );
});

/** `file` with a byte of stanza line `line` changed and the old MAC kept. */
function withHeaderKeepMac(file: Uint8Array, line: number): Uint8Array {
  const out = file.slice();
  let at = 0;
  for (let i = 0; i < line; i++) at = out.indexOf(10, at) + 1;
  out[at + 3] = out[at + 3] === 0x41 ? 0x42 : 0x41;
  return out;
}

/** `file` with `insert` put in at byte `at`, the MAC left as it was. */
function withOldMac(file: Uint8Array, insert: string, at: number): Uint8Array {
  return new Uint8Array([
    ...file.subarray(0, at),
    ...text(insert),
    ...file.subarray(at),
  ]);
}
