/**
 * A small test runner that behaves the same in Deno, Bun and Node, so that
 * one test source runs under all three. Test files call `test()`; `run.ts`
 * imports them and prints one line per test and a closing summary.
 *
 * @module
 */

/** A test body; it fails by throwing or by rejecting. */
export type TestBody = () => void | Promise<void>;

/** Per-test options. */
export interface TestOptions {
  /** A reason to skip; the test is reported as skipped with it. */
  skip?: string | false;
}

interface Registered {
  name: string;
  file: string;
  body: TestBody;
  options: TestOptions;
}

/**
 * Thrown by a test body that finds at run time that it cannot prove what it
 * is about (a tool missing, a dump too big): the runner reports the test as
 * skipped with this reason, never as passed.
 */
export class Skip extends Error {
  #skip = true;

  /** Whether `value` is a Skip (by its private field, not instanceof). */
  static is(value: unknown): value is Skip {
    return typeof value === "object" && value !== null && #skip in value;
  }
}

const registered: Registered[] = [];
let currentFile = "";
/** Tests before this index were taken by an earlier `runFiles`. */
let runUpTo = 0;

/** Registers a test. */
export function test(
  name: string,
  body: TestBody,
  options: TestOptions = {},
): void {
  registered.push({ name, file: currentFile, body, options });
}

/** Which runtime is running the tests. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** Totals of one run. */
export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Imports each test file, then runs every test it registered, in order:
 * those whose `file > name` label contains `filter`, or for which it
 * returns true. A string filter that names files (its part before " > "
 * is found in some file names) imports only those files: a test file's
 * imports and top-level work cost seconds, and the edit-test loop runs
 * one file at a time.
 */
export async function runFiles(
  files: readonly string[],
  filter?: string | ((label: string) => boolean),
): Promise<Totals> {
  const wanted = typeof filter === "function"
    ? filter
    : (label: string) => filter === undefined || label.includes(filter);
  const fileOf = (file: string) => file.replace(/^.*\/tests\//, "");
  const filePart = typeof filter === "string"
    ? filter.split(" > ")[0]
    : undefined;
  const named = filePart === undefined
    ? []
    : files.filter((file) => fileOf(file).includes(filePart));
  // Each test runs once: run.ts calls this once per tier, and a later call
  // runs only what was registered since the one before.
  const first = runUpTo;
  for (const file of named.length > 0 ? named : files) {
    currentFile = file;
    await import(file);
  }
  runUpTo = registered.length;
  const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
  for (const { name, file, body, options } of registered.slice(first)) {
    const label = `${fileOf(file)} > ${name}`;
    if (!wanted(label)) continue;
    if (options.skip) {
      totals.skipped++;
      console.log(`[${runtime}] skip ${label} (${options.skip})`);
      continue;
    }
    const started = performance.now();
    try {
      await body();
      totals.passed++;
      const ms = (performance.now() - started).toFixed(0);
      console.log(`[${runtime}] ok   ${label} (${ms} ms)`);
    } catch (error) {
      if (Skip.is(error)) {
        totals.skipped++;
        console.log(`[${runtime}] skip ${label} (${error.message})`);
        continue;
      }
      totals.failed++;
      console.log(`[${runtime}] FAIL ${label}`);
      console.log(
        indent(
          error instanceof Error
            ? (error.stack ?? error.message)
            : String(error),
        ),
      );
    }
  }
  return totals;
}

function indent(text: string): string {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}
