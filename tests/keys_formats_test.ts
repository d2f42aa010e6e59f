/**
 * Key formats against the real tools: OpenSSH private keys written by
 * `ssh-keygen -t ed25519` read into guarded memory, SSHSIG signatures
 * checked both ways with `ssh-keygen -Y`, age identities and recipients
 * against `age-keygen` and the age spec's example; bad key files, wrong
 * Bech32 checksums and passphrase-protected keys get typed errors and
 * leave nothing mapped.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SecretBuffer, stats } from "../mod.ts";
import { Ed25519Key } from "../src/keys/ed25519.ts";
import { X25519Key } from "../src/keys/x25519.ts";
import {
  formatSshPublicKey,
  parseSshPublicKey,
  sshSign,
  sshVerify,
} from "../src/keys/sshsig.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { ensureTools, scratch, tool, toolOk } from "./_tools.ts";

const text = (s: string) => new TextEncoder().encode(s);
const secret = (s: string) => SecretBuffer.from(text(s));
const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Runs `fn` and requires secmem's live buffers to be as before. */
function leavesNothing(fn: () => void, what: string): void {
  const before = JSON.stringify(stats());
  fn();
  assert.equal(
    JSON.stringify(stats()),
    before,
    `${what}: left something mapped`,
  );
}

function newSshKey(dir: string, name: string, passphrase = ""): string {
  const path = join(dir, name);
  toolOk([
    "ssh-keygen",
    "-q",
    "-t",
    "ed25519",
    "-N",
    passphrase,
    "-C",
    `${name}@secmem`,
    "-f",
    path,
  ]);
  return path;
}

test("ssh-keygen's Ed25519 key file is read into guarded memory; its public key equals the .pub", () => {
  ensureTools();
  const { dir, done } = scratch();
  try {
    for (let i = 0; i < 3; i++) {
      const path = newSshKey(dir, `k${i}`);
      using file = SecretBuffer.fromFileSync(path);
      using key = Ed25519Key.fromOpenSSH(file);
      const line = readFileSync(`${path}.pub`, "utf8").trim();
      assert.ok(
        same(key.publicKey, parseSshPublicKey(line)),
        "public key equals the .pub",
      );
      assert.equal(formatSshPublicKey(key.publicKey, `k${i}@secmem`), line);
    }
  } finally {
    done();
  }
});

test("SSHSIG: ssh-keygen -Y sign is verified by secmem, and secmem's signature is byte-identical", () => {
  ensureTools();
  const { dir, done } = scratch();
  try {
    const path = newSshKey(dir, "signer");
    const line = readFileSync(`${path}.pub`, "utf8");
    for (const size of [0, 1, 1000, 100_000]) {
      const message = new Uint8Array(size).map((_, i) => (i * 7 + size) & 255);
      const messagePath = join(dir, `m${size}`);
      writeFileSync(messagePath, message);
      toolOk([
        "ssh-keygen",
        "-q",
        "-Y",
        "sign",
        "-f",
        path,
        "-n",
        "file",
        messagePath,
      ]);
      const theirs = readFileSync(`${messagePath}.sig`, "utf8");
      assert.equal(
        sshVerify(line, message, "file", theirs),
        true,
        `size ${size}`,
      );
      assert.equal(
        sshVerify(line, message, "git", theirs),
        false,
        "other namespace",
      );
      const altered = new Uint8Array([...message, 1]);
      assert.equal(
        sshVerify(line, altered, "file", theirs),
        false,
        "altered message",
      );
      // Ed25519 is deterministic: the same key, message and namespace give
      // the same signature, so secmem must write exactly ssh-keygen's bytes.
      using file = SecretBuffer.fromFileSync(path);
      using key = Ed25519Key.fromOpenSSH(file);
      assert.equal(
        sshSign(key, message, "file"),
        theirs,
        `size ${size}: identical`,
      );
    }
  } finally {
    done();
  }
});

test("SSHSIG: a secmem signature passes ssh-keygen -Y verify; a wrong one fails it", () => {
  ensureTools();
  const { dir, done } = scratch();
  try {
    using key = Ed25519Key.generate();
    const line = formatSshPublicKey(key.publicKey);
    const allowed = join(dir, "allowed_signers");
    writeFileSync(allowed, `me@secmem ${line}\n`);
    const message = text("a message signed in guarded memory\n");
    const signature = sshSign(key, message, "file");
    const sigPath = join(dir, "m.sig");
    writeFileSync(sigPath, signature);
    const verify = (namespace: string, input: Uint8Array) =>
      tool([
        "ssh-keygen",
        "-Y",
        "verify",
        "-f",
        allowed,
        "-I",
        "me@secmem",
        "-n",
        namespace,
        "-s",
        sigPath,
      ], input);
    const good = verify("file", message);
    assert.equal(good.status, 0, good.stderr);
    assert.match(
      new TextDecoder().decode(good.stdout),
      /Good "file" signature for me@secmem/,
    );
    assert.notEqual(verify("git", message).status, 0, "other namespace");
    assert.notEqual(verify("file", text("another")).status, 0, "other message");
    assert.equal(sshVerify(line, message, "file", signature), true);
  } finally {
    done();
  }
});

test("a passphrase-protected OpenSSH key is refused with how to convert it; nothing is left mapped", () => {
  ensureTools();
  const { dir, done } = scratch();
  try {
    const path = newSshKey(dir, "locked", "hunter22");
    using file = SecretBuffer.fromFileSync(path);
    leavesNothing(() => {
      const error = assertThrowsCode(
        () => Ed25519Key.fromOpenSSH(file),
        "INVALID_ARGUMENT",
      );
      assert.match(error.message, /aes256-ctr/);
      assert.match(error.message, /ssh-keygen -p -N "" -f COPY/);
    }, "encrypted key");
  } finally {
    done();
  }
});

test("truncated and garbled OpenSSH key files get INVALID_ARGUMENT and leave nothing mapped", () => {
  ensureTools();
  const { dir, done } = scratch();
  try {
    const path = newSshKey(dir, "good");
    const good = readFileSync(path);
    const body = good.toString("latin1");
    const lines = body.split("\n");
    const cases: [string, Uint8Array][] = [
      ["empty", new Uint8Array(0)],
      ["no armor", text("hello")],
      ["cut mid-body", good.subarray(0, Math.floor(good.length / 2))],
      [
        "last body line dropped",
        text([...lines.slice(0, -3), ...lines.slice(-2)].join("\n")),
      ],
      [
        "first body line dropped",
        text([lines[0], ...lines.slice(2)].join("\n")),
      ],
      [
        "a bad base64 character",
        text(body.replace(lines[2].slice(10, 11), "!")),
      ],
    ];
    // Every byte of the decoded key flipped, through re-encoding: each must
    // fail a structural check (magic, lengths, check numbers, type, the
    // public key's two copies, padding) except the seed bytes, and those
    // must then fail the public key match.
    const raw = Buffer.from(lines.slice(1, -2).join(""), "base64");
    for (let at = 0; at < raw.length; at += 7) {
      const bad = Buffer.from(raw);
      bad[at] ^= 0x55;
      const b64 = bad.toString("base64").replace(/(.{70})/g, "$1\n");
      cases.push([
        `byte ${at} flipped`,
        text(
          `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
        ),
      ]);
    }
    let refused = 0;
    for (const [name, bytes] of cases) {
      using file = SecretBuffer.from(bytes.slice());
      leavesNothing(() => {
        try {
          Ed25519Key.fromOpenSSH(file).destroy();
          // The comment is not covered by any check: a flip there reads.
          assert.match(name, /flipped/, `${name} was accepted`);
        } catch (error) {
          assert.equal(
            (error as { code?: string }).code !== undefined,
            true,
            `${name}: ${error}`,
          );
          refused++;
        }
      }, name);
    }
    say(
      `  ${refused} of ${cases.length} bad key files refused with a typed error`,
    );
    assert.ok(refused >= cases.length - 3, "at most the comment bytes pass");
  } finally {
    done();
  }
});

test("age identities: the spec's example and age-keygen's keys give the same recipients", () => {
  ensureTools();
  // c2sp.org/age, "The X25519 recipient type".
  using spec = X25519Key.fromAgeIdentity(
    secret(
      "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
    ),
  );
  assert.equal(
    spec.ageRecipient,
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
  );
  for (let i = 0; i < 5; i++) {
    const file = toolOk(["age-keygen"]);
    const recipient =
      /# public key: (age1[0-9a-z]+)/.exec(new TextDecoder().decode(file))![1];
    const line = new TextDecoder().decode(file).split("\n").find((l) =>
      l.startsWith("AGE-")
    )!;
    // from() wipes its source: the heap copy of the test's file is gone.
    using buffer = SecretBuffer.from(file);
    using key = X25519Key.fromAgeIdentity(buffer);
    assert.equal(key.ageRecipient, recipient);
    using alone = X25519Key.fromAgeIdentity(secret(`\r\n  ${line}  \r\n`));
    assert.equal(alone.ageRecipient, recipient);
    assert.equal(
      new TextDecoder().decode(toolOk(["age-keygen", "-y"], line + "\n"))
        .trim(),
      recipient,
    );
  }
});

test("age identities: wrong checksums, wrong case, two keys and garbage get typed errors, nothing mapped", () => {
  const good =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
  const alphabet = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
  const cases: [string, string, string][] = [];
  for (let at = 16; at < good.length; at += 3) {
    const c = good[at];
    const other = alphabet[(alphabet.indexOf(c) + 1) % 32];
    cases.push([
      `character ${at} changed`,
      good.slice(0, at) + other + good.slice(at + 1),
      "INTEGRITY",
    ]);
  }
  cases.push(
    [
      "two characters swapped",
      good.slice(0, 20) + good[21] + good[20] + good.slice(22),
      "INTEGRITY",
    ],
    ["lowercase", good.toLowerCase(), "INVALID_ARGUMENT"],
    [
      "mixed case",
      good.slice(0, 30) + good.slice(30).toLowerCase(),
      "INVALID_ARGUMENT",
    ],
    ["cut", good.slice(0, -1), "INVALID_ARGUMENT"],
    ["extended", good + "Q", "INVALID_ARGUMENT"],
    [
      "not in the alphabet",
      good.slice(0, 20) + "B" + good.slice(21),
      "INVALID_ARGUMENT",
    ],
    ["two keys", `${good}\n${good}\n`, "INVALID_ARGUMENT"],
    ["comments only", "# created: now\n\n", "INVALID_ARGUMENT"],
    [
      "other prefix",
      good.replace("AGE-SECRET-KEY-", "AGE-PLUGIN-KEY-"),
      "INVALID_ARGUMENT",
    ],
  );
  for (const [name, value, code] of cases) {
    using buffer = secret(value);
    leavesNothing(() => {
      assertThrowsCode(
        () => X25519Key.fromAgeIdentity(buffer),
        code as "INTEGRITY",
        name,
      );
    }, name);
  }
});

test("OpenSSH public key lines and SSH signatures that cannot be read get INVALID_ARGUMENT", () => {
  using key = Ed25519Key.generate();
  const line = formatSshPublicKey(key.publicKey);
  const message = text("m");
  const signature = sshSign(key, message, "file");
  assertThrowsCode(
    () => parseSshPublicKey("ssh-rsa AAAAB3NzaC1yc2E"),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => parseSshPublicKey(line.slice(0, -4)),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => sshVerify(line, message, "file", signature.slice(0, 60)),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => sshVerify(line, message, "", signature),
    "INVALID_ARGUMENT",
  );
  // Another key's valid signature is a false, not an error.
  using other = Ed25519Key.generate();
  assert.equal(
    sshVerify(formatSshPublicKey(other.publicKey), message, "file", signature),
    false,
  );
});
