// The README's runnable ts/js blocks, run as a user pastes them.
//
//   node readme_blocks.mjs extract README.md DIR
//     writes each block unchanged into DIR as `block_LINE.ts` (or .mjs) and
//     `blocks.json`: each file with the lines its `// prints: X` comments
//     promise, in order. Fences `ignore` and `no-run` are left out (the
//     README says why for each).
//   node readme_blocks.mjs run DIR LABEL COMMAND...
//     runs `COMMAND FILE` in DIR for every block; a block passes when it
//     exits 0 and prints exactly what it promises. Prints `ok - …` or
//     `not ok - …` per block, then `readme: N passed, N failed`.
//
// Plain JavaScript that runs under any Node: the package's tests call it
// with the machine's runtimes.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [command, ...args] = process.argv.slice(2);

if (command === "extract") {
  const [readme, dir] = args;
  const lines = readFileSync(readme, "utf8").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|js)(\s.*)?$/.exec(lines[i]);
    if (open === null) continue;
    const attributes = (open[2] ?? "").trim().split(/\s+/).filter(Boolean);
    const line = i + 1;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith("```"); i++) {
      body.push(lines[i]);
    }
    if (attributes.includes("ignore") || attributes.includes("no-run")) {
      continue;
    }
    const file = `block_${line}.${open[1] === "ts" ? "ts" : "mjs"}`;
    writeFileSync(join(dir, file), body.join("\n") + "\n");
    const prints = body.flatMap((text) => {
      const match = /\/\/.*\bprints: (.*)$/.exec(text);
      return match === null ? [] : [match[1].trimEnd()];
    });
    blocks.push({ file, line, prints });
  }
  writeFileSync(join(dir, "blocks.json"), JSON.stringify(blocks, null, 2));
  console.log(`# ${blocks.length} runnable README blocks written to ${dir}`);
} else if (command === "run") {
  const [dir, label, ...runner] = args;
  const blocks = JSON.parse(readFileSync(join(dir, "blocks.json"), "utf8"));
  let passed = 0;
  let failed = 0;
  for (const { file, line, prints } of blocks) {
    const child = spawnSync(runner[0], [...runner.slice(1), file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
    });
    const printed = (child.stdout ?? "").split("\n");
    if (printed.at(-1) === "") printed.pop();
    const same = printed.length === prints.length &&
      printed.every((text, i) => text === prints[i]);
    const name = `${label}: README.md:${line} runs as pasted`;
    if (child.status === 0 && same) {
      passed++;
      console.log(`ok - ${name}`);
    } else {
      failed++;
      console.log(`not ok - ${name} (exit ${child.status ?? child.signal})`);
      console.log(`#   expected: ${JSON.stringify(prints)}`);
      console.log(`#   printed:  ${JSON.stringify(printed)}`);
      for (const text of (child.stderr ?? "").split("\n").slice(-12)) {
        console.log(`#   ${text}`);
      }
    }
  }
  console.log(`readme: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
} else {
  console.error(
    "usage: readme_blocks.mjs extract README DIR | run DIR LABEL COMMAND...",
  );
  process.exit(2);
}
