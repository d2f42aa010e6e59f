/**
 * `Number.isInteger` replaced after import to answer yes: a size that is
 * not a whole number must still be refused everywhere a size is taken,
 * never laid out as a pool slot. (`Number.isSafeInteger`, taken at load
 * too, is not tested alone: the size checks ask `isInteger` first.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretMemoryError, SecretPool } from "../mod.ts";
import { test } from "./_harness.ts";
import { replacedWhile } from "./_replaced.ts";

const yes = () => true;

test("Number.isInteger answering yes: sizes of 1.5 and 4096.5 are refused by alloc, random and a pool", () => {
  using pool = new SecretPool();
  const makers: Record<string, (size: number) => { size: number }> = {
    "SecretBuffer.alloc": (size) => SecretBuffer.alloc(size),
    "SecretBuffer.random": (size) => SecretBuffer.random(size),
    "pool.alloc": (size) => pool.alloc(size),
  };
  const outcomes: Record<string, string> = {};
  for (const [name, make] of Object.entries(makers)) {
    for (const size of [1.5, 4096.5]) {
      outcomes[`${name}(${size})`] = replacedWhile(
        Number,
        "isInteger",
        yes,
        () => {
          try {
            return `made ${make(size).size}`;
          } catch (error) {
            return error instanceof SecretMemoryError
              ? error.code
              : String(error);
          }
        },
      );
    }
  }
  for (const [call, outcome] of Object.entries(outcomes)) {
    assert.equal(outcome, "INVALID_SIZE", call);
  }
});
