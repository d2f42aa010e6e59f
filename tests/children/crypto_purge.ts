/**
 * Child for the scrypt purge test (purge() would wipe other tests'
 * buffers in the shared runner): starts an asynchronous scrypt that needs
 * many slices, purges while it runs, and reports how the promise settled
 * and what stayed mapped. Prints one JSON line.
 *
 * @module
 */

import {
  purge,
  SecretBuffer,
  type SecretMemoryError,
  stats,
} from "../../mod.ts";
import { scrypt } from "../../crypto.ts";

const before = stats();
const passphrase = SecretBuffer.random(16);
const pending = scrypt(passphrase, {
  salt: new Uint8Array(16),
  N: 2 ** 14,
  r: 1,
  p: 1,
  length: 32,
});
await new Promise((resolve) => setTimeout(resolve, 5));
const { destroyed } = purge();
let outcome = "resolved";
try {
  (await pending).destroy();
} catch (error) {
  outcome = (error as SecretMemoryError).code ?? String(error);
}
console.log(JSON.stringify({
  destroyed,
  outcome,
  live: stats().liveBuffers - before.liveBuffers,
}));
