/**
 * Child for tests/hostile_review_r9_test.ts: after the native layer is
 * built, `Array.prototype[Symbol.iterator]` is replaced so that walking
 * libc's candidate paths yields a path of this script's choosing, then
 * hardenProcess() binds prctl (bound at first use). Prints `asked <n>`
 * (how often the replacement was handed the candidates) and `step <the
 * dumpable step as JSON>`.
 *
 * @module
 */

import { hardenProcess, SecretBuffer } from "../../mod.ts";

SecretBuffer.alloc(16).destroy();
const original = Array.prototype[Symbol.iterator];
let asked = 0;
Object.defineProperty(Array.prototype, Symbol.iterator, {
  configurable: true,
  writable: true,
  value: function (this: unknown[]) {
    if (this.length > 0 && this[0] === "libc.so.6") {
      asked++;
      return Reflect.apply(original, ["/nonexistent/r9-planted-libc.so"], []);
    }
    return Reflect.apply(original, this, []);
  },
});
let step: unknown;
try {
  step = hardenProcess().steps.dumpable;
} catch (error) {
  step = { threw: String(error) };
} finally {
  Object.defineProperty(Array.prototype, Symbol.iterator, {
    configurable: true,
    writable: true,
    value: original,
  });
}
console.log(`asked ${asked}`);
console.log(`step ${JSON.stringify(step)}`);
