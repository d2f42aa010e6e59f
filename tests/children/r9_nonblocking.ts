/**
 * Child for tests/hostile_review_r9_test.ts: after the native layer is
 * built, a `nonblocking` getter answering true is planted on
 * Object.prototype, and hardenProcess() binds prctl (bound at first use).
 * Deno reads that flag from each declaration it binds: a symbol bound so
 * returns a Promise. Prints `step <the dumpable step as JSON>` and `asked
 * <n>` (how often the getter was asked).
 *
 * @module
 */

import { hardenProcess, SecretBuffer } from "../../mod.ts";

SecretBuffer.alloc(16).destroy();
let asked = 0;
Object.defineProperty(Object.prototype, "nonblocking", {
  configurable: true,
  get() {
    asked++;
    return true;
  },
});
let step: unknown;
try {
  step = hardenProcess().steps.dumpable;
} catch (error) {
  step = { threw: String(error) };
} finally {
  delete (Object.prototype as { nonblocking?: unknown }).nonblocking;
}
console.log(`asked ${asked}`);
console.log(`step ${JSON.stringify(step)}`);
