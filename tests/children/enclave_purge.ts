/**
 * Child for the Enclave purge test (purge() would wipe other tests'
 * buffers in the shared runner): seals, purges, tries to open, seals anew.
 * Prints one JSON line.
 *
 * @module
 */

import { purge, SecretBuffer, type SecretMemoryError } from "../../mod.ts";
import { Enclave } from "../../enclave.ts";

const bytes = new Uint8Array([1, 2, 3, 4]);
const old = Enclave.seal(SecretBuffer.from(bytes.slice()));
const { destroyed } = purge();
let oldOpen = "opened";
try {
  old.open().destroy();
} catch (error) {
  oldOpen = (error as SecretMemoryError).code;
}
const fresh = Enclave.seal(SecretBuffer.from(bytes.slice()));
const opened = fresh.open();
const freshOpens = opened.equals(bytes);
opened.destroy();
fresh.destroy();
old.destroy();
console.log(JSON.stringify({ destroyed, oldOpen, freshOpens }));
