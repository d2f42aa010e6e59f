// Runs the programs in examples/ the way their users do, in a project that
// installed secmem, and checks each against a tool no one here wrote:
// - hmac_cli against `openssl dgst -sha256 -hmac KEY`;
// - jwt_server against tokens minted by node:crypto's createHmac;
// - vault against the age CLI (age -d of what it seals; it opens what age
//   seals), when `age` is installed.
// Usage: node examples_check.mjs DIR LABEL COMMAND...   (DIR holds
// examples/; COMMAND runs a script: `node`, `bun`, `deno run -A`). Prints
// `ok - …` / `not ok - …`, then `examples: N passed, N failed`.
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [dir, label, ...runner] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok - ${label}: ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${label}: ${name}`);
    for (const line of String(detail).split("\n").slice(-15)) {
      console.log(`#   ${line}`);
    }
  }
}
const work = mkdtempSync(join(tmpdir(), "secmem-examples-"));
const script = (name) => join(dir, "examples", name);
const run = (name, args, options = {}) =>
  spawnSync(runner[0], [...runner.slice(1), script(name), ...args], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    ...options,
  });

try {
  // hmac_cli: a key file as people write them (a trailing newline) and a
  // message of every byte value.
  const secret = "webhook secret from the dashboard";
  writeFileSync(join(work, "key.txt"), secret + "\n");
  const message = randomBytes(70_000);
  writeFileSync(join(work, "message.bin"), message);
  const ours = run("hmac_cli.ts", [
    join(work, "key.txt"),
    join(work, "message.bin"),
  ]);
  const openssl = spawnSync("openssl", [
    "dgst",
    "-sha256",
    "-hmac",
    secret,
    "-r",
    join(work, "message.bin"),
  ], { encoding: "utf8" });
  const expected = openssl.stdout.split(" ")[0];
  check(
    "hmac_cli prints what openssl dgst -sha256 -hmac prints",
    ours.status === 0 && openssl.status === 0 &&
      ours.stdout.trim() === expected &&
      /^[0-9a-f]{64}$/.test(expected),
    `ours (exit ${ours.status}): ${ours.stdout}${ours.stderr}\nopenssl: ${openssl.stdout}${openssl.stderr}`,
  );
  const fromStdin = run("hmac_cli.ts", [join(work, "key.txt")], {
    input: message,
  });
  check(
    "hmac_cli reads the message from stdin",
    fromStdin.status === 0 && fromStdin.stdout.trim() === expected,
    fromStdin.stdout + fromStdin.stderr,
  );

  // jwt_server: tokens signed by node:crypto.
  const server = spawn(runner[0], [
    ...runner.slice(1),
    script("jwt_server.ts"),
    join(work, "key.txt"),
    "0",
  ], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  server.stdout.on("data", (chunk) => (output += chunk));
  server.stderr.on("data", (chunk) => (output += chunk));
  const port = await new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const found = /listening on (\d+)/.exec(output);
      if (found || Date.now() - started > 60_000 || server.exitCode !== null) {
        clearInterval(timer);
        resolve(found ? Number(found[1]) : undefined);
      }
    }, 50);
  });
  check("jwt_server starts", port !== undefined, output);
  if (port !== undefined) {
    const b64 = (value) => Buffer.from(value).toString("base64url");
    const sign = (head, body, key = secret) => {
      const signingInput = `${b64(JSON.stringify(head))}.${
        b64(JSON.stringify(body))
      }`;
      return `${signingInput}.${
        createHmac("sha256", key).update(signingInput).digest("base64url")
      }`;
    };
    const ask = async (token) => {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        headers: token === undefined
          ? {}
          : { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: await response.text() };
    };
    const claims = { sub: "alice", admin: false };
    const good = await ask(sign({ alg: "HS256", typ: "JWT" }, claims));
    check(
      "jwt_server accepts a token node:crypto signed, and returns its claims",
      good.status === 200 && good.body === JSON.stringify(claims),
      JSON.stringify(good),
    );
    const token = sign({ alg: "HS256", typ: "JWT" }, claims);
    const [h, , s] = token.split(".");
    const forged = `${h}.${
      b64(JSON.stringify({ sub: "alice", admin: true }))
    }.${s}`;
    const refused = await Promise.all([
      ask(forged),
      ask(sign({ alg: "HS256" }, claims, "another secret entirely!")),
      ask(sign({ alg: "none" }, claims)),
      ask(undefined),
      ask("not.a.token"),
    ]);
    check(
      "jwt_server refuses a changed payload, another key, alg none, no token, garbage",
      refused.every((r) => r.status === 401),
      JSON.stringify(refused),
    );
  }
  server.kill("SIGTERM");
  await new Promise((resolve) =>
    server.exitCode !== null ? resolve() : server.on("exit", resolve)
  );

  // vault: age interoperability, when the vault example and age are here.
  const age = spawnSync("age", ["--version"], { encoding: "utf8" });
  const vault = spawnSync("test", ["-f", script("vault.ts")]);
  if (vault.status === 0 && age.status === 0) {
    const { checkVault } = await import(
      new URL("./examples_vault.mjs", import.meta.url)
    );
    await checkVault({ run, work, check });
  } else {
    console.log(
      `# vault: ${
        vault.status === 0 ? "age not installed" : "no examples/vault.ts"
      }: not run`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
