/**
 * The README's examples run, and print what the README says they print.
 * Every ```ts / ```js block is run in a child of the current runtime, with
 * the package specifiers (`@secmem/secmem`, `jsr:@secmem/secmem`,
 * `npm:secmem`, `secmem`, with `/doctor` or `/enclave`) pointed at this
 * repository's entries. A line's `// …; prints: X` or `// prints: X`
 * comment is a line the block must print, in order; a block with none must
 * print nothing. Fence attributes as `deno test --doc` reads them: `ignore`
 * is neither type-checked nor run, `no-run` is type-checked by
 * `deno check --doc-only README.md` but not run here (it needs a terminal
 * or files this machine does not have).
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { runChild, runtimeCommand } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const root = new URL("..", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  attributes: string[];
  code: string;
}

function codeBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith("```"); i++) {
      body.push(lines[i]);
    }
    blocks.push({
      line: start + 1,
      lang: open[1],
      attributes: open[2].trim().split(/\s+/).filter((a) => a !== ""),
      code: body.join("\n"),
    });
  }
  return blocks;
}

const ENTRIES: Record<string, string> = {
  "": "mod.ts",
  "/doctor": "doctor.ts",
  "/enclave": "enclave.ts",
  "/crypto": "crypto.ts",
  "/keys": "keys.ts",
  "/age": "age.ts",
  "/forensics": "forensics.ts",
};

/** Points the package's specifiers at this repository's entry files. */
function localImports(code: string): string {
  return code.replace(
    /(["'])(?:jsr:@secmem\/secmem|npm:secmem|@secmem\/secmem|secmem)(\/doctor|\/enclave|\/crypto|\/keys|\/age|\/forensics)?\1/g,
    (_all, quote: string, sub: string | undefined) =>
      `${quote}${new URL(ENTRIES[sub ?? ""], root).href}${quote}`,
  );
}

/** The lines the block's `prints:` comments promise, in order. */
function promised(code: string): string[] {
  return code.split("\n").flatMap((line) => {
    const match = /\/\/.*\bprints: (.*)$/.exec(line);
    return match === null ? [] : [match[1].trimEnd()];
  });
}

const blocks = codeBlocks(readme);
const scripts = blocks.filter((b) => ["ts", "js"].includes(b.lang));

test("README: every ts/js block is runnable or says why not", () => {
  for (const block of scripts) {
    const unknown = block.attributes.filter((a) =>
      !["ignore", "no-run"].includes(a)
    );
    assert.deepEqual(unknown, [], `README.md:${block.line} fence attributes`);
  }
  const runnable = scripts.filter((b) =>
    !b.attributes.includes("ignore") && !b.attributes.includes("no-run")
  );
  // The Install, Use, SecretPool and Enclave examples.
  assert(runnable.length >= 4, `only ${runnable.length} runnable blocks`);
  assert(
    runnable.some((b) => promised(b.code).length > 0),
    "no block promises any output",
  );
});

for (const block of scripts) {
  const skipped = block.attributes.includes("ignore")
    ? "fenced `ignore`"
    : block.attributes.includes("no-run")
    ? "fenced `no-run`: type-checked only"
    : false;
  test(
    `README.md:${block.line} runs and prints what it says`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), "secmem-readme-"));
      try {
        writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
        const file = join(dir, `block_${block.line}.${block.lang}`);
        writeFileSync(file, localImports(block.code) + "\n");
        // Deno finds the repository's import map (for @noble/ciphers) only
        // when told: the block lives in a temporary folder.
        const command = runtime === "deno"
          ? [
            runtimeCommand(file)[0],
            "run",
            "--allow-all",
            "--quiet",
            "--config",
            fileURLToPath(new URL("deno.json", root)),
            file,
          ]
          : runtimeCommand(file);
        const child = runChild(file, [], {
          commandOverride: command,
          cwd: dir,
        });
        assert.equal(child.status, 0, `exit ${child.status}: ${child.stderr}`);
        const printed = child.stdout.split("\n");
        if (printed.at(-1) === "") printed.pop();
        assert.deepEqual(printed, promised(block.code));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { skip: linuxOnly || skipped },
  );
}
