/**
 * Assertions for the suite (the standard library's are not reachable from
 * these machines). Each throws an `AssertionError` with what was expected.
 *
 * @module
 */

import {
  SecretMemoryError,
  type SecretMemoryErrorCode,
} from "../src/core/errors.ts";

/** A failed assertion. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Fails unless `condition` is truthy. */
export function assert(
  condition: unknown,
  message = "expected a truthy value",
): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Fails unless `actual` and `expected` are equal (deep, for plain data). */
export function assertEquals<T>(
  actual: T,
  expected: T,
  message?: string,
): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${
        show(actual)
      }`,
    );
  }
}

/** Fails if `actual` and `unexpected` are equal. */
export function assertNotEquals<T>(
  actual: T,
  unexpected: T,
  message?: string,
): void {
  if (deepEqual(actual, unexpected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}did not expect ${show(actual)}`,
    );
  }
}

/** Fails unless `fn` throws a `SecretMemoryError` with `code`; returns it. */
export function assertThrowsCode(
  fn: () => unknown,
  code: SecretMemoryErrorCode,
  message?: string,
): SecretMemoryError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  return checkCode(thrown, code, message);
}

/** Fails unless `fn` rejects with a `SecretMemoryError` with `code`. */
export async function assertRejectsCode(
  fn: () => Promise<unknown>,
  code: SecretMemoryErrorCode,
  message?: string,
): Promise<SecretMemoryError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  return checkCode(thrown, code, message);
}

function checkCode(
  thrown: unknown,
  code: SecretMemoryErrorCode,
  message?: string,
): SecretMemoryError {
  const prefix = message ? `${message}: ` : "";
  if (thrown === undefined) {
    throw new AssertionError(`${prefix}expected ${code}, nothing was thrown`);
  }
  if (!(thrown instanceof SecretMemoryError)) {
    throw new AssertionError(
      `${prefix}expected SecretMemoryError ${code}, got ${show(thrown)}`,
    );
  }
  if (thrown.code !== code) {
    throw new AssertionError(
      `${prefix}expected ${code}, got ${thrown.code}: ${thrown.message}`,
    );
  }
  return thrown;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) =>
    deepEqual(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
    )
  );
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(
      value,
      (_, v) => (typeof v === "bigint" ? `${v}n` : v),
    );
  } catch {
    return String(value);
  }
}
