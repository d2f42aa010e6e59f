/**
 * Review R8: a `Function.prototype.call` replaced after import, which
 * forwards every call but skips the native layer's terminal control (a
 * no-op restore instead of echo off), then `promptSecret`. Prints the
 * passphrase's size, or the error code.
 *
 * @module
 */

import { promptSecret, SecretMemoryError } from "../../mod.ts";

const call = Function.prototype.call;
const apply = Reflect.apply;
Object.defineProperty(Function.prototype, "call", {
  configurable: true,
  writable: true,
  value: function (this: (...args: unknown[]) => unknown, ...args: unknown[]) {
    if (this.name === "quietTerminal") return () => {};
    return apply(this, args[0], args.slice(1));
  },
});

try {
  using secret = await promptSecret("Passphrase: ");
  console.log(`size ${secret.size}`);
} catch (error) {
  console.log(
    `code ${error instanceof SecretMemoryError ? error.code : String(error)}`,
  );
} finally {
  Object.defineProperty(Function.prototype, "call", {
    configurable: true,
    writable: true,
    value: call,
  });
}
