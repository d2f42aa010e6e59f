/**
 * Child run by Deno without --allow-ffi: importing must work; the first
 * allocation must throw FFI_UNAVAILABLE naming the flag.
 *
 * @module
 */

import { SecretBuffer, SecretMemoryError } from "../../mod.ts";

console.log("imported");
try {
  SecretBuffer.alloc(8);
  console.log("allocated without permission");
} catch (error) {
  if (error instanceof SecretMemoryError) {
    console.log(`code ${error.code}: ${error.message}`);
  } else {
    console.log(`other error: ${error}`);
  }
}
