/**
 * age under array built-ins replaced after import: an X25519 key's
 * recipient (`age1…`) names who a file is encrypted to, and the header
 * names the shares a file is opened with, so a replacement must choose
 * neither.
 *
 * @module
 */

import assert from "node:assert/strict";
import { X25519Key } from "../keys.ts";
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
