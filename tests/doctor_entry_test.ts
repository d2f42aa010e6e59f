/**
 * The doctor entry under a Node that predates `import.meta.main` (24.2):
 * it must still run when it is the program, fail with exit 1 when node:ffi
 * is missing, and stay silent when another module imports it. The entry and
 * everything it imports are stripped of types (tsc's transpileModule, the
 * same emit the npm build makes) into a temporary package, then run by the
 * machine's own old Node, directly, through a symlink as npm's `.bin` link
 * is, and as an import.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { formatReport } from "../doctor.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The first `node` on PATH outside node_modules that lacks import.meta.main. */
function findOldNode(): string | undefined {
  const which = spawnSync("sh", ["-c", "which -a node"], { encoding: "utf8" });
  for (const path of (which.stdout ?? "").split("\n")) {
    if (path === "" || path.includes("/node_modules/")) continue;
    const version = spawnSync(path, ["-p", "process.versions.node"], {
      encoding: "utf8",
    });
    const [major, minor] = (version.stdout ?? "").trim().split(".").map(
      Number,
    );
    if (major < 24 || (major === 24 && minor < 2)) return path;
  }
  return undefined;
}

const oldNode = linuxOnly === false ? findOldNode() : undefined;
const skip = linuxOnly ||
  (oldNode === undefined ? "no Node older than 24.2 on PATH" : false);

interface Transpiler {
  transpileModule(
    source: string,
    options: { compilerOptions: Record<string, unknown>; fileName: string },
  ): { outputText: string };
}

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

let built: string | undefined;

/** The doctor and its imports as JavaScript in a `"type": "module"` folder. */
function buildOnce(): string {
  if (built !== undefined) return built;
  const ts = createRequire(join(root, "package.json"))(
    "typescript",
  ) as Transpiler;
  const out = mkdtempSync(join(tmpdir(), "secmem-doctor-entry-"));
  const sources = [
    join(root, "doctor.ts"),
    ...typeScriptFiles(join(root, "src")),
    ...typeScriptFiles(join(root, "ffi")),
  ];
  for (const source of sources) {
    const { outputText } = ts.transpileModule(readFileSync(source, "utf8"), {
      fileName: source,
      compilerOptions: {
        target: 99, // ESNext
        module: 99, // ESNext
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(out, relative(root, source)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  built = out;
  return out;
}

function runOld(args: string[], cwd: string) {
  return spawnSync(oldNode!, args, { cwd, encoding: "utf8", timeout: 60_000 });
}

test("old Node: `node doctor.js` prints the failure and exits 1", () => {
  const out = buildOnce();
  const child = runOld([join(out, "doctor.js")], out);
  assert.equal(child.status, 1, child.stdout + child.stderr);
  assert.match(child.stdout, /FAIL +Native calls .*node:ffi/);
  assert.match(child.stdout, /a required protection is MISSING/);
}, { skip });

test("old Node: `--json` gives ok false and exit 1", () => {
  const out = buildOnce();
  const child = runOld([join(out, "doctor.js"), "--json"], out);
  assert.equal(child.status, 1, child.stdout + child.stderr);
  const report = JSON.parse(child.stdout) as {
    ok: boolean;
    checks: { id: string; status: string }[];
  };
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.checks.filter((c) => c.status === "fail").map((c) => c.id),
    ["ffi"],
  );
}, { skip });

test("old Node: run through a symlink (npm's .bin link) it still runs", () => {
  const out = buildOnce();
  const link = join(out, "secmem-doctor");
  symlinkSync(join(out, "doctor.js"), link);
  try {
    const child = runOld([link], tmpdir());
    assert.equal(child.status, 1, child.stdout + child.stderr);
    assert.match(child.stdout, /FAIL +Native calls/);
  } finally {
    rmSync(link);
  }
}, { skip });

test(
  "old Node: importing the doctor entry runs nothing and prints nothing",
  () => {
    const out = buildOnce();
    const importer = join(out, "importer.js");
    writeFileSync(
      importer,
      'import { runDoctor } from "./doctor.js";\nconsole.log(typeof runDoctor);\n',
    );
    try {
      const child = runOld([importer], out);
      assert.equal(child.status, 0, child.stdout + child.stderr);
      assert.equal(child.stdout, "function\n");
    } finally {
      rmSync(importer);
      rmSync(out, { recursive: true, force: true });
      built = undefined;
    }
  },
  { skip },
);

test("formatReport refuses what runDoctor did not return, with INVALID_ARGUMENT", () => {
  const lying = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
  });
  for (
    const bad of [
      null,
      {},
      { ok: true, checks: [{}] },
      {
        ok: true,
        checks: [{ id: "x", title: "x", status: "nope", detail: "" }],
      },
      { ok: "yes", checks: [] },
      lying,
    ]
  ) {
    assertThrowsCode(() => formatReport(bad as never), "INVALID_ARGUMENT");
  }
  const fine = formatReport({
    ok: true,
    checks: [{ id: "a", title: "A", status: "pass", detail: "d" }],
  });
  assert(fine.includes("PASS  A  d"), fine);
});
