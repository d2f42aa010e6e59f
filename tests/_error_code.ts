/**
 * What node:assert cannot say in one call: "this throws (or rejects with)
 * a SecretMemoryError with code X". Returns the error for further checks.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  SecretMemoryError,
  type SecretMemoryErrorCode,
} from "../src/core/errors.ts";

function hasCode(
  code: SecretMemoryErrorCode,
  message: string | undefined,
  seen: (error: SecretMemoryError) => void,
): (error: unknown) => true {
  const prefix = message === undefined ? "" : `${message}: `;
  return (error) => {
    assert.ok(
      error instanceof SecretMemoryError,
      `${prefix}expected SecretMemoryError ${code}, got ${String(error)}`,
    );
    assert.equal(error.code, code, `${prefix}${error.message}`);
    seen(error);
    return true;
  };
}

/** Fails unless `fn` throws a `SecretMemoryError` with `code`. */
export function assertThrowsCode(
  fn: () => unknown,
  code: SecretMemoryErrorCode,
  message?: string,
): SecretMemoryError {
  let thrown: SecretMemoryError | undefined;
  assert.throws(fn, hasCode(code, message, (error) => thrown = error), message);
  return thrown!;
}

/** Fails unless `fn` rejects with a `SecretMemoryError` with `code`. */
export async function assertRejectsCode(
  fn: () => Promise<unknown>,
  code: SecretMemoryErrorCode,
  message?: string,
): Promise<SecretMemoryError> {
  let thrown: SecretMemoryError | undefined;
  await assert.rejects(
    fn,
    hasCode(code, message, (error) => thrown = error),
    message,
  );
  return thrown!;
}
