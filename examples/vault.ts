/**
 * A passphrase file vault in the age format (age-encryption.org/v1), so
 * the files it writes open with the `age` command-line tool and it opens
 * theirs. The passphrase comes from the terminal with echo off (or from a
 * file, for scripts), the plaintext is read from its file straight into
 * locked, guarded pages, and `open` writes it to standard output from
 * there: neither ever becomes a JavaScript string.
 *
 * age's passphrase recipe (scrypt, work factor 18) needs 256 MiB of memory
 * for a moment, which secmem locks like every secret: where RLIMIT_MEMLOCK
 * is smaller (8 MiB for most users) run with SECMEM_LOCK=best-effort, and
 * those pages are guarded and wiped but may be swapped.
 *
 * Run it:
 *   deno run --allow-ffi --allow-read --allow-write examples/vault.ts seal NOTES.txt NOTES.age
 *   deno run --allow-ffi --allow-read examples/vault.ts open NOTES.age
 *   bun examples/vault.ts seal NOTES.txt NOTES.age --passphrase-file PASSFILE
 *   node examples/vault.ts open NOTES.age                (Node 26)
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import { promptSecret, SecretBuffer, SecretMemoryError } from "secmem";
import { ageDecrypt, ageEncrypt } from "secmem/age";

const [command, input, output, flag, passFile] = process.argv.slice(2);
const usage = "usage: vault seal IN OUT.age | vault open IN.age " +
  "[--passphrase-file FILE]";

/** The passphrase: from a file (one trailing newline dropped) or a prompt. */
async function passphrase(twice: boolean): Promise<SecretBuffer> {
  const file = flag === "--passphrase-file"
    ? passFile
    : output === "--passphrase-file"
    ? flag
    : undefined;
  if (file !== undefined) {
    return SecretBuffer.fromFileSync(file, { trim: true });
  }
  const first = await promptSecret("Passphrase: ");
  if (!twice) return first;
  using again = await promptSecret("Repeat it: ");
  if (!first.equals(again)) {
    first.destroy();
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "The two passphrases differ",
    );
  }
  return first;
}

try {
  if (command === "seal" && input !== undefined && output !== undefined) {
    using secret = await passphrase(true);
    using plain = SecretBuffer.fromFileSync(input, { maxSize: 1 << 30 });
    writeFileSync(
      output,
      ageEncrypt(plain, { passphrase: secret, armor: true }),
    );
  } else if (command === "open" && input !== undefined) {
    using secret = await passphrase(false);
    const { readFileSync } = await import("node:fs");
    using plain = ageDecrypt(readFileSync(input), { passphrase: secret });
    plain.writeToSync(1);
  } else {
    console.error(usage);
    process.exit(2);
  }
} catch (error) {
  if (!(error instanceof SecretMemoryError)) throw error;
  console.error(`vault: ${error.message}`);
  process.exit(1);
}
