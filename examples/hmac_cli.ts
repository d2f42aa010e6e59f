/**
 * Prints the HMAC-SHA-256 of a file (or of standard input) in hex, under a
 * key read from a key file straight into locked, guarded pages: the same
 * answer as `openssl dgst -sha256 -hmac "$(cat KEYFILE)" FILE`, without the
 * key ever becoming a string or a heap array. The key file's trailing
 * newline, as an editor or `echo` writes it, is dropped (`trim`).
 *
 * Run it:
 *   deno run --allow-ffi --allow-read examples/hmac_cli.ts KEYFILE [FILE]
 *   bun examples/hmac_cli.ts KEYFILE [FILE]
 *   node examples/hmac_cli.ts KEYFILE [FILE]        (Node 26)
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { SecretBuffer, SecretMemoryError } from "secmem";
import { hmacKey } from "secmem/crypto";

const [keyFile, dataFile] = process.argv.slice(2);
if (keyFile === undefined) {
  console.error("usage: hmac_cli KEYFILE [FILE]   (FILE defaults to stdin)");
  process.exit(2);
}

try {
  using keyBytes = SecretBuffer.fromFileSync(keyFile, { trim: true });
  // A short key is refused by default (it is guessable); openssl takes any.
  using mac = hmacKey("SHA-256", keyBytes, { allowShortKey: true });
  // The message is not secret: an ordinary read.
  const data = readFileSync(dataFile ?? 0);
  const tag = mac.mac(data);
  console.log(Array.from(tag, (b) => b.toString(16).padStart(2, "0")).join(""));
} catch (error) {
  if (!(error instanceof SecretMemoryError)) throw error;
  console.error(`hmac_cli: ${error.message}`);
  process.exit(1);
}
