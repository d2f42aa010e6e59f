/**
 * Child for tests/hostile_review_r7_test.ts: the process's first HMAC runs
 * while a setter planted on Array.prototype[0] records what it is handed.
 * That first call is when the crypto core takes its work area (its view
 * reads every key the core loads). Prints `handed <n>`: how many values
 * the setter got that hold a view over guarded memory.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { hmac } from "../../crypto.ts";

const handed: unknown[] = [null];
using key = SecretBuffer.random(32);
Object.defineProperty(Array.prototype, "0", {
  set(value: unknown) {
    handed.push(value);
  },
  configurable: true,
});
try {
  hmac("SHA-256", key, new Uint8Array(8));
} finally {
  delete (Array.prototype as unknown as Record<string, unknown>)[0];
}
const areas = handed.filter((value) =>
  typeof value === "object" && value !== null && "bytes" in value
);
console.log(`handed ${areas.length}`);
