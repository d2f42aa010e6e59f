/**
 * An HTTP server that accepts a request only with a valid HS256 JSON Web
 * Token (`Authorization: Bearer …`). The signing key is read from a file
 * into locked, guarded pages once; the HMAC context keeps its precomputed
 * state guarded between requests, and `verify` compares tags in constant
 * time. A valid token gets 200 and its claims; anything else gets 401.
 *
 * Run it (PORT 0 picks a free port; the server prints the one it got):
 *   deno run --allow-ffi --allow-read --allow-net examples/jwt_server.ts KEYFILE PORT
 *   bun examples/jwt_server.ts KEYFILE PORT
 *   node examples/jwt_server.ts KEYFILE PORT          (Node 26)
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import process from "node:process";
import { SecretBuffer } from "secmem";
import { hmacKey } from "secmem/crypto";

const [keyFile, port = "0"] = process.argv.slice(2);
if (keyFile === undefined) {
  console.error("usage: jwt_server KEYFILE [PORT]");
  process.exit(2);
}

const key = SecretBuffer.fromFileSync(keyFile, { trim: true });
// HS256 secrets in use are often short; accepting them is a choice.
const mac = hmacKey("SHA-256", key, { allowShortKey: true });
key.destroy();

const text = new TextEncoder();

function fromBase64Url(part: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  return new Uint8Array(Buffer.from(part, "base64url"));
}

/** The token's claims when its signature is valid and its header HS256. */
function verify(token: string): unknown {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [head, body, signature] = parts;
  const tag = fromBase64Url(signature);
  if (tag === undefined || tag.length !== 32) return undefined;
  if (!mac.verify(text.encode(`${head}.${body}`), tag)) return undefined;
  try {
    const header = JSON.parse(Buffer.from(head, "base64url").toString());
    if (header.alg !== "HS256") return undefined;
    return JSON.parse(Buffer.from(body, "base64url").toString());
  } catch {
    return undefined;
  }
}

const server = createServer((request, response) => {
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  const claims = token === undefined ? undefined : verify(token);
  response.writeHead(claims === undefined ? 401 : 200, {
    "content-type": "application/json",
  });
  response.end(JSON.stringify(claims ?? { error: "invalid token" }));
});
server.listen(Number(port), "127.0.0.1", () => {
  const address = server.address();
  console.log(
    `listening on ${typeof address === "object" ? address?.port : address}`,
  );
});
// Stop cleanly: the context's pages are wiped when it is destroyed.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    mac.destroy();
    process.exit(0);
  });
}
