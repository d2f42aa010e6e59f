/**
 * age under array built-ins replaced after import: an X25519 key's
 * recipient (`age1…`) names who a file is encrypted to, and the header
 * names the shares a file is opened with, so a replacement must choose
 * neither; nor may one wave a malformed header through a check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { X25519Key } from "../keys.ts";
import { SecretBuffer, SecretMemoryError } from "../mod.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { test } from "./_harness.ts";
import { replacedWhile } from "./_replaced.ts";

// Another key's recipient: what a hostile replacement would answer.
const FORGED = (() => {
  using other = X25519Key.generate();
  return other.ageRecipient;
})();
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]());

const REPLACEMENTS: [string, object, PropertyKey, unknown][] = [
  ["Array.prototype.join", Array.prototype, "join", () => FORGED.slice(4)],
  ["Array.prototype.map", Array.prototype, "map", () => [...FORGED.slice(4)]],
  ["Array.prototype.push", Array.prototype, "push", () => 0],
  [
    "the typed arrays' iterator",
    typedArrayPrototype,
    Symbol.iterator,
    function* () {},
  ],
  ["the array iterator's next", arrayIterator, "next", () => ({ done: true })],
];

for (const [name, target, property, value] of REPLACEMENTS) {
  test(`X25519Key.ageRecipient under ${name} replaced after import: the key's own recipient`, () => {
    using key = X25519Key.generate();
    const control = key.ageRecipient;
    assert.match(control, /^age1[02-9ac-hj-np-z]{58}$/);
    const got = replacedWhile(
      target,
      property,
      value,
      () => key.ageRecipient,
    );
    assert.equal(got, control, "the replacement chose the recipient");
  });
}

test("ageEncrypt under Array.prototype.join replaced after import, ageDecrypt under the array iterator's next answering done: the file opens", () => {
  using key = X25519Key.generate();
  const plain = new Uint8Array([5, 6, 7, 8]);
  const file = replacedWhile(
    Array.prototype,
    "join",
    () => "X25519 " + "A".repeat(43),
    () => ageEncrypt(plain, { recipients: [key.ageRecipient] }),
  );
  using opened = replacedWhile(
    arrayIterator,
    "next",
    () => ({ done: true, value: undefined }),
    () => ageDecrypt(file, { identities: [key] }),
  );
  assert.deepEqual(opened.read((view) => view.slice()), plain);
});

/** `file` with `text` put in its header at `at`. */
function spliced(file: Uint8Array, at: number, text: string): Uint8Array {
  const extra = new TextEncoder().encode(text);
  const out = new Uint8Array(file.length + extra.length);
  out.set(file.subarray(0, at));
  out.set(extra, at);
  out.set(file.subarray(at), at + extra.length);
  return out;
}

/** The header's text (its first bytes, as text). */
const headerOf = (file: Uint8Array) =>
  new TextDecoder().decode(file.subarray(0, 400));

function refusedAs(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof SecretMemoryError && error.code === "INVALID_ARGUMENT" &&
    pattern.test(error.message);
}

test("ageDecrypt under Array.prototype.filter replaced after import: an scrypt stanza beside an X25519 one is still refused", () => {
  using key = X25519Key.generate();
  using passphrase = SecretBuffer.from(new TextEncoder().encode("pass"));
  const locked = ageEncrypt(new Uint8Array(3), { passphrase, workFactor: 10 });
  const lockedHeader = headerOf(locked);
  const start = lockedHeader.indexOf("-> scrypt ");
  const scryptStanza = lockedHeader.slice(start, lockedHeader.indexOf("---"));
  const file = ageEncrypt(new Uint8Array(3), {
    recipients: [key.ageRecipient],
  });
  const mixed = spliced(
    file,
    headerOf(file).indexOf("-> X25519 "),
    scryptStanza,
  );
  const mixing = /only stanza/;
  assert.throws(
    () => ageDecrypt(mixed, { identities: [key] }),
    refusedAs(mixing),
  );
  assert.throws(
    () =>
      replacedWhile(
        Array.prototype,
        "filter",
        () => [],
        () => ageDecrypt(mixed, { identities: [key] }),
      ),
    refusedAs(mixing),
  );
});

test("ageDecrypt under RegExp.prototype.test replaced after import: a work factor that is not a plain decimal is still refused", () => {
  using passphrase = SecretBuffer.from(new TextEncoder().encode("pass"));
  const file = ageEncrypt(new Uint8Array(3), { passphrase, workFactor: 10 });
  const header = headerOf(file);
  const at = header.indexOf(" 10\n", header.indexOf("-> scrypt "));
  assert(at > 0);
  // "1e1" is 10 to Number, and no decimal as age writes it. The header
  // is ASCII up to there: a character is a byte.
  const bent = spliced(
    new Uint8Array([...file.subarray(0, at), ...file.subarray(at + 3)]),
    at,
    " 1e1",
  );
  const notDecimal = /not a decimal/;
  assert.throws(() => ageDecrypt(bent, { passphrase }), refusedAs(notDecimal));
  assert.throws(
    () =>
      replacedWhile(
        RegExp.prototype,
        "test",
        () => true,
        () => ageDecrypt(bent, { passphrase }),
      ),
    refusedAs(notDecimal),
  );
});
