/**
 * docs/claims.md cannot rot: every test it cites as `file_test > title`
 * must still exist in tests/, under that title. A cited title may elide
 * words with "…" and may spell a `${…}` part of a title built at run time
 * as one run prints it (`bun's own file stream (node-stream) …`); each
 * piece between ellipses must then be part of one title of that file,
 * mostly from its literal text. A file cited alone (`smaps_test`) must
 * exist. Titles are read from the sources, not by importing the files, so
 * the check is the same in every runtime and costs no test's set-up.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { test } from "./_harness.ts";

const folder = new URL(".", import.meta.url);
const claims = readFileSync(new URL("../docs/claims.md", folder), "utf8");

/** A title as written in the source: literal text around `${…}` parts. */
type Template = string[];

/** The string or template literal that starts at `at` (a quote), and where it ends. */
function literalAt(
  source: string,
  at: number,
): { chunks: Template; end: number } {
  const quote = source[at];
  const chunks: Template = [""];
  let i = at + 1;
  while (i < source.length && source[i] !== quote) {
    if (source[i] === "\\") {
      const next = source[i + 1];
      chunks[chunks.length - 1] += next === "n" ? "\n" : next;
      i += 2;
    } else if (quote === "`" && source.startsWith("${", i)) {
      // Skip the expression, braces and nested literals included.
      let depth = 1;
      i += 2;
      while (i < source.length && depth > 0) {
        const c = source[i];
        if (c === '"' || c === "'" || c === "`") {
          i = literalAt(source, i).end;
          continue;
        }
        if (c === "{") depth++;
        if (c === "}") depth--;
        i++;
      }
      chunks.push("");
    } else {
      chunks[chunks.length - 1] += source[i];
      i++;
    }
  }
  return { chunks, end: i + 1 };
}

/**
 * The titles of a test file: every string or template literal in the first
 * argument of each `test(` call (a title chosen by a condition has two).
 */
export function titlesOf(source: string): Template[] {
  const titles: Template[] = [];
  const call = /(?:^|[^\w.])test\(\s*/g;
  for (let match; (match = call.exec(source)) !== null;) {
    let i = match.index + match[0].length;
    // The first argument ends at the first comma outside brackets.
    let depth = 0;
    while (i < source.length) {
      const c = source[i];
      if (c === '"' || c === "'" || c === "`") {
        const literal = literalAt(source, i);
        titles.push(literal.chunks);
        i = literal.end;
        continue;
      }
      if (c === "(" || c === "[" || c === "{") depth++;
      if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      }
      if (c === "," && depth === 0) break;
      i++;
    }
  }
  return titles;
}

/**
 * Whether `piece` is part of some title `template` can print, with at least
 * `share` of its characters matched by the template's literal text (so a
 * piece never passes by falling wholly into a `${…}` part). A `${…}` part
 * prints 1 to 40 characters of one line.
 */
export function fits(piece: string, template: Template, share = 0.6): boolean {
  if (template.length === 1) return template[0].includes(piece);
  // A state is a place in the template: [chunk, offset] or [chunk, -1 - n],
  // n characters into the `${…}` part after that chunk. Each keeps the
  // most literal characters matched on any path to it.
  const start = new Map<string, number>();
  const key = (chunk: number, at: number) => `${chunk},${at}`;
  template.forEach((text, chunk) => {
    for (let at = 0; at <= text.length; at++) start.set(key(chunk, at), 0);
    if (chunk < template.length - 1) start.set(key(chunk, -2), 0);
  });
  let states = close(start, template);
  for (const c of piece) {
    const next = new Map<string, number>();
    const put = (k: string, literal: number) => {
      if ((next.get(k) ?? -1) < literal) next.set(k, literal);
    };
    for (const [k, literal] of states) {
      const [chunk, at] = k.split(",").map(Number);
      if (at >= 0) {
        if (template[chunk][at] === c) put(key(chunk, at + 1), literal + 1);
      } else if (-1 - at < 40 && c !== "\n") {
        put(key(chunk, at - 1), literal);
      }
    }
    states = close(next, template);
    if (states.size === 0) return false;
  }
  const best = Math.max(...states.values());
  return best >= Math.ceil(share * piece.length);
}

/** Adds the moves that take no character: a chunk's end into its `${…}`, a `${…}` with text into the next chunk. */
function close(
  states: Map<string, number>,
  template: Template,
): Map<string, number> {
  const out = new Map(states);
  for (const [k, literal] of states) {
    const [chunk, at] = k.split(",").map(Number);
    const last = chunk === template.length - 1;
    if (at === template[chunk].length && !last) {
      const into = `${chunk},-1`;
      if ((out.get(into) ?? -1) < literal) out.set(into, literal);
    }
    if (at <= -2 && !last) {
      const after = `${chunk + 1},0`;
      if ((out.get(after) ?? -1) < literal) out.set(after, literal);
    }
  }
  return out;
}

/** Whether a cited title (pieces joined by "…") names one of `titles`. */
export function names(cited: string, titles: readonly Template[]): boolean {
  const pieces = cited.split("…").map((piece) => piece.trim())
    .filter((piece) => piece.length >= 3);
  if (pieces.length === 0) return false;
  return titles.some((title) => pieces.every((piece) => fits(piece, title)));
}

/** Every `file_test > title` and lone `file_test` the document cites. */
export function citations(
  text: string,
): { file: string; title?: string; line: number }[] {
  const found: { file: string; title?: string; line: number }[] = [];
  text.split("\n").forEach((line, index) => {
    for (const [, span] of line.matchAll(/`([^`]+)`/g)) {
      const cited = /^(\w+_test)(?:\.ts)?(?: > (.+))?$/.exec(span.trim());
      if (cited === null) continue;
      found.push({ file: cited[1], title: cited[2], line: index + 1 });
    }
  });
  return found;
}

// Cited by base name: a unit test in tests/core/ is `region_test`, and
// two files of one name (tests/map_limit_test.ts, tests/core/…) pool their
// titles.
const files = new Map<string, Template[]>();
for (const path of readdirSync(folder, { recursive: true }) as string[]) {
  if (!path.endsWith("_test.ts")) continue;
  // Windows lists subfolders with a backslash.
  const name = path.slice(
    Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1,
    -3,
  );
  files.set(name, [
    ...files.get(name) ?? [],
    ...titlesOf(readFileSync(new URL(path, folder), "utf8")),
  ]);
}

test("the title reader finds titles as the sources write them", () => {
  const titles = titlesOf(
    'test("plain one", () => {});\n' +
      "test(\n  `${runtime}'s own file stream (${how}) leaves copies`,\n" +
      '  () => {},\n);\ntest(x === 1 ? "one way" : `other ${y ? "a" : "b"} way`, f);\n' +
      "assert(/a/.test(text));",
  );
  assert.deepEqual(titles, [
    ["plain one"],
    ["", "'s own file stream (", ") leaves copies"],
    ["one way"],
    ["other ", " way"],
  ]);
  assert.ok(names("plain one", titles));
  assert.ok(names("bun's own file stream (node-stream) leaves copies", titles));
  assert.ok(names("deno's own … leaves copies", titles));
  assert.ok(names("other sync way", titles));
  // A piece that the literal text does not hold is not a title.
  assert.ok(!names("plain two", titles));
  assert.ok(!names("bun's own file stream leaks", titles));
  assert.ok(!names("node-stream", titles), "a piece inside ${…} alone");
});

test("every test docs/claims.md cites exists in tests/ under that title", () => {
  const cited = citations(claims);
  assert.ok(cited.length > 100, `only ${cited.length} citations found`);
  const missing = cited.filter(({ file, title }) => {
    const titles = files.get(file);
    if (titles === undefined) return true;
    return title !== undefined && !names(title, titles);
  }).map(({ file, title, line }) =>
    `docs/claims.md:${line}: ${file}${title === undefined ? "" : ` > ${title}`}`
  );
  assert.deepEqual(
    missing,
    [],
    `cited but not in tests/:\n${missing.join("\n")}`,
  );
});

test("a citation of a test that does not exist is caught (control)", () => {
  const fake = citations(
    "| x | proved | `pool_test > a title no test has` and `no_such_test` |",
  );
  assert.equal(fake.length, 2);
  assert.ok(!names(fake[0].title!, files.get("pool_test")!));
  assert.equal(files.get(fake[1].file), undefined);
});
