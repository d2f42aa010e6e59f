/**
 * Builds the npm package from the same sources as the JSR one, with the
 * TypeScript compiler from npm (dnt, the usual tool, lives on JSR only).
 * `out/esm/` holds one bundled ESM module per entry and the chunks they
 * share (`bundle` below), with tsc's `.d.ts` for every source file, and
 * `out/` holds a generated `package.json`, the README and the LICENSE. Run
 * it with `npm run build:npm`, or with any of the three runtimes: `node
 * npm-build/build.ts` (Node 26), `bun npm-build/build.ts`, or `deno run -A
 * npm-build/build.ts`. Set `TSC` to use a particular `tsc`, `DENO` a
 * particular `deno` (the bundler).
 *
 * For CommonJS callers each entry also gets a one-line `.cjs` that
 * `require`s the ESM entry (Node 26 and Bun load ESM through `require`), so
 * both conditions reach one module instance: one registry of live buffers,
 * one lock policy. A `.d.cts` twin of every declaration file describes it to
 * TypeScript, which otherwise stops a CommonJS file with TS1479 under
 * `node16` resolution.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "npm-build", "out");
const esm = join(out, "esm");

/** The npm name; the JSR name in deno.json is scoped differently. */
const NAME = "secmem";
const DESCRIPTION =
  "Guarded, locked, wiped memory for secrets in Node, Bun and Deno, over each runtime's own FFI";
/** The command that runs `doctor.ts`, as `npx secmem-doctor`. */
const DOCTOR_BIN = "secmem-doctor";
/** The command that runs `agent.ts`, as `npx secmem-agent`. */
const AGENT_BIN = "secmem-agent";
const NODE_SHEBANG = "#!/usr/bin/env node";
/**
 * `node:ffi` arrived in Node 26.1.0. For Bun, the line the package is tested
 * on: the Bun adapter needs `process.getBuiltinModule`, which older Bun
 * releases lacked (the release that added it is not pinned down here).
 */
const ENGINES = { node: ">=26.1.0", bun: ">=1.4.0" };

/**
 * Runtime dependencies of the package, at the versions the repository
 * develops against: none. The Enclave and `./crypto` run secmem's own
 * cipher core (@noble/ciphers stays a devDependency, for the comparison
 * tests and the benchmark only).
 */
const DEPENDENCIES: Record<string, string> = dependencyVersions([]);

function dependencyVersions(names: string[]): Record<string, string> {
  const manifest = JSON.parse(
    readFileSync(join(root, "package.json"), "utf8"),
  ) as {
    devDependencies: Record<string, string>;
  };
  return Object.fromEntries(
    names.map((name) => [name, manifest.devDependencies[name]]),
  );
}
/**
 * Left for the maintainer: `repository`, `homepage`, `bugs` and `author`
 * are copied into package.json from here once they are known.
 */
const MAINTAINER_FIELDS: Record<string, unknown> = {};

interface DenoManifest {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
}

/** Stops the build with a message that says what to do. */
function fail(message: string): never {
  console.error(`npm-build: ${message}`);
  const host = globalThis as unknown as {
    process: { exit(code: number): never };
  };
  return host.process.exit(1);
}

/** `$TSC`, else the `tsc` of the repository's devDependency `typescript`. */
function findTsc(): string[] {
  const host = globalThis as unknown as {
    Deno?: unknown;
    process: { env: Record<string, string | undefined>; execPath: string };
  };
  const { env, execPath } = host.process;
  if (env.TSC) return [env.TSC];
  let tsc: string;
  try {
    tsc = createRequire(join(root, "package.json")).resolve(
      "typescript/bin/tsc",
    );
  } catch {
    return fail(
      "Cannot find the TypeScript compiler: run `npm install` (typescript is a devDependency) or set TSC=/path/to/tsc",
    );
  }
  // tsc is a Node script; the runtime running this build runs it too.
  return host.Deno === undefined
    ? [execPath, tsc]
    : [execPath, "run", "-A", tsc];
}

/**
 * Bundles the compiled JavaScript with Deno's bundler (`deno bundle`, Deno
 * is a devDependency; `$DENO` names another): one module per entry, and
 * what entries share in `esm/chunk-*.js`, so that every entry
 * still reaches one instance of the core (one registry, one lock policy).
 * Node resolves, reads and links each module on its own: the 53 files of
 * the main entry were half of what importing it cost (issue 24,
 * bench/RESULTS.md). Names are kept (`--keep-names`): the bundler renames
 * a class that another module's name shadows, and `SecretBuffer.name`
 * must stay "SecretBuffer". The declaration files stay one per source
 * file, as tsc wrote them.
 */
function bundle(entries: string[]): void {
  const host = globalThis as unknown as {
    process: { env: Record<string, string | undefined> };
  };
  const deno = host.process.env.DENO ??
    join(root, "node_modules", ".bin", "deno");
  const staging = join(out, "bundle");
  const result = spawnSync(deno, [
    "bundle",
    "--quiet",
    "--no-config",
    "--no-lock",
    "--code-splitting",
    "--keep-names",
    "--format=esm",
    `--outdir=${staging}`,
    ...entries.map((entry) => join(out, built(entry, ".js"))),
  ], { stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) {
    fail(
      `Cannot bundle: ${deno} bundle exited with ${
        result.status ?? result.signal ?? result.error
      } (run npm install for the deno devDependency, or set DENO)`,
    );
  }
  for (const file of walk(esm)) if (file.endsWith(".js")) rmSync(file);
  for (const file of walk(staging)) {
    const target = join(esm, relative(staging, file));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(file, target);
  }
  rmSync(staging, { recursive: true, force: true });
}

/** Every file under `folder`, recursively, as absolute paths. */
function walk(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

/** Maps a source entry (`./mod.ts`) to its built file (`./esm/mod.js`). */
function built(
  entry: string,
  extension: ".js" | ".d.ts" | ".cjs" | ".d.cts",
): string {
  const path = entry.replace(/^\.\//, "").replace(/\.ts$/, extension);
  return `./esm/${path}`;
}

function compile(entries: string[]): void {
  // The sources are erasable TypeScript that Node 26 runs as they are, so
  // the emitted JavaScript is the source with its types removed (target
  // ESNext keeps every construct as written) and `.ts` imports made `.js`.
  const config = {
    compilerOptions: {
      target: "ESNext",
      // The web globals (TextEncoder, addEventListener) all three runtimes
      // share; no @types/node, so nothing runtime-specific leaks in.
      lib: ["ESNext", "DOM"],
      types: [],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      verbatimModuleSyntax: true,
      erasableSyntaxOnly: true,
      isolatedModules: true,
      strict: true,
      declaration: true,
      noEmitOnError: true,
      skipLibCheck: true,
      newLine: "lf",
      rootDir: root,
      outDir: esm,
    },
    files: entries.map((entry) => join(root, entry)),
  };
  const configPath = join(out, "tsconfig.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const [command, ...args] = findTsc();
  const result = spawnSync(command, [...args, "-p", configPath], {
    stdio: "inherit",
  });
  rmSync(configPath);
  if (result.status !== 0) {
    fail(`Cannot compile: tsc exited with ${result.status ?? result.signal}`);
  }
}

/**
 * tsc rewrites `.ts` imports in JavaScript but leaves them in declaration
 * files. tsc itself still finds the `.d.ts`, but the package ships no `.ts`
 * file, so point them at the `.js` (whose `.d.ts` sits beside it), as dnt's
 * output does.
 */
function rewriteDeclarations(files: string[]): void {
  const relativeTs =
    /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;
  for (const file of files.filter((name) => name.endsWith(".d.ts"))) {
    const text = readFileSync(file, "utf8");
    const rewritten = text.replace(relativeTs, "$1$2.js$3");
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

/**
 * The entry declarations name `Symbol.dispose` and `Disposable` (every
 * buffer is disposable); TypeScript declares them in `esnext.disposable`,
 * which a project on `lib: es2022` lacks. The runtimes secmem supports all
 * have `Symbol.dispose`, so the entries pull that small lib in themselves.
 */
function referenceDisposable(entryDeclarations: string[]): void {
  for (const file of entryDeclarations) {
    const text = readFileSync(file, "utf8");
    writeFileSync(file, `/// <reference lib="esnext.disposable" />\n${text}`);
  }
}

/**
 * The CommonJS face of each entry: a `.cjs` that hands out the ESM entry's
 * namespace, and a `.d.cts` twin of every declaration file (its relative
 * imports pointed at `.cjs`), so TypeScript sees CommonJS all the way down.
 */
function addCommonJs(entries: string[], files: string[]): void {
  const relativeJs =
    /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.js(["'])/g;
  for (const file of files.filter((name) => name.endsWith(".d.ts"))) {
    const text = readFileSync(file, "utf8");
    writeFileSync(
      file.replace(/\.d\.ts$/, ".d.cts"),
      text.replace(relativeJs, "$1$2.cjs$3"),
    );
  }
  for (const entry of entries) {
    const esmFile = built(entry, ".js").replace(/^\.\/esm\//, "./");
    writeFileSync(
      join(out, built(entry, ".cjs")),
      `"use strict";\n// Node 26 and Bun load the ESM entry through require(): one module instance.\nmodule.exports = require(${
        JSON.stringify(esmFile)
      });\n`,
    );
  }
}

/**
 * The JSDoc examples import the JSR name; npm users import `secmem`, so the
 * examples in the shipped files (which editors show) use that name.
 */
function renameInExamples(files: string[], jsrName: string): void {
  const quoted = new RegExp(
    `(["'])${jsrName.replace("/", "\\/")}(/|["'])`,
    "g",
  );
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const renamed = text.replace(quoted, `$1${NAME}$2`);
    if (renamed !== text) writeFileSync(file, renamed);
  }
}

/**
 * Every import must be satisfiable: relative (and `.js`), a `node:`
 * built-in, or a declared dependency. Any other bare, `jsr:`, `npm:` or URL
 * import would be a runtime dependency the package does not declare. Comments are skipped: the JSDoc
 * examples import the package itself.
 */
function checkImports(files: string[]): void {
  // A specifier never holds white space, so a string that merely ends in
  // "from" (an error message) is not taken for an import.
  const specifier =
    /\bfrom\s*["']([^"'\s]+)["']|\bimport\s*\(\s*["']([^"'\s]+)["']\s*\)|\bimport\s*["']([^"'\s]+)["']/g;
  const problems: string[] = [];
  for (const file of files.filter((name) => /\.(js|d\.ts)$/.test(name))) {
    const code = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    for (const match of code.matchAll(specifier)) {
      const spec = match[1] ?? match[2] ?? match[3];
      const local = /^\.{1,2}\//.test(spec) && spec.endsWith(".js");
      const declared = Object.keys(DEPENDENCIES).some((name) =>
        spec === name || spec.startsWith(`${name}/`)
      );
      if (!local && !declared && !spec.startsWith("node:")) {
        problems.push(`${relative(out, file)} imports "${spec}"`);
      }
    }
  }
  if (problems.length > 0) {
    fail(
      `Cannot package imports the package cannot satisfy:\n  ${
        problems.join("\n  ")
      }`,
    );
  }
}

/** Gives the doctor a Node shebang, so npm can link it as a command. */
function makeExecutable(file: string): void {
  const text = readFileSync(file, "utf8");
  const body = text.startsWith("#!")
    ? text.slice(text.indexOf("\n") + 1)
    : text;
  writeFileSync(file, `${NODE_SHEBANG}\n${body}`);
  chmodSync(file, 0o755);
}

function packageJson(manifest: DenoManifest): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  // Classic `node10` resolution reads no `exports`: it finds subpaths
  // (`secmem/doctor`) through `typesVersions`.
  const subpathTypes: Record<string, string[]> = {};
  for (const [name, entry] of Object.entries(manifest.exports)) {
    exports[name] = {
      import: { types: built(entry, ".d.ts"), default: built(entry, ".js") },
      require: {
        types: built(entry, ".d.cts"),
        default: built(entry, ".cjs"),
      },
    };
    if (name !== ".") {
      subpathTypes[name.slice(2)] = [built(entry, ".d.ts")];
    }
  }
  const main = manifest.exports["."];
  const doctor = manifest.exports["./doctor"];
  const agent = manifest.exports["./agent"];
  const bin: Record<string, string> = {};
  if (doctor !== undefined) bin[DOCTOR_BIN] = built(doctor, ".js").slice(2);
  if (agent !== undefined) bin[AGENT_BIN] = built(agent, ".js").slice(2);
  return {
    name: NAME,
    version: manifest.version,
    description: DESCRIPTION,
    license: manifest.license,
    keywords: ["secret", "mlock", "guard-page", "secure-memory", "ffi", "wipe"],
    type: "module",
    main: built(main, ".js"),
    types: built(main, ".d.ts"),
    typesVersions: { "*": subpathTypes },
    exports,
    dependencies: DEPENDENCIES,
    // npm's publish drops a bin path that starts with "./".
    ...(Object.keys(bin).length === 0 ? {} : { bin }),
    engines: ENGINES,
    files: ["esm/", "README.md", "LICENSE"],
    ...MAINTAINER_FIELDS,
  };
}

function main(): void {
  const manifest = JSON.parse(
    readFileSync(join(root, "deno.json"), "utf8"),
  ) as DenoManifest;
  const entries = Object.values(manifest.exports);
  const missing = [...entries, "README.md", "LICENSE"].filter((path) =>
    !existsSync(join(root, path))
  );
  if (missing.length > 0) {
    fail(`Cannot build: missing ${missing.join(", ")} at the repository root`);
  }

  rmSync(out, { recursive: true, force: true });
  mkdirSync(esm, { recursive: true });
  compile(entries);

  bundle(entries);
  const files = walk(esm);
  rewriteDeclarations(files);
  renameInExamples(files, manifest.name);
  checkImports(files);
  referenceDisposable(entries.map((entry) => join(out, built(entry, ".d.ts"))));
  addCommonJs(entries, files);
  const doctor = manifest.exports["./doctor"];
  if (doctor !== undefined) makeExecutable(join(out, built(doctor, ".js")));
  const agent = manifest.exports["./agent"];
  if (agent !== undefined) makeExecutable(join(out, built(agent, ".js")));

  for (const name of ["README.md", "LICENSE"]) {
    copyFileSync(join(root, name), join(out, name));
  }
  writeFileSync(
    join(out, "package.json"),
    `${JSON.stringify(packageJson(manifest), null, 2)}\n`,
  );
  console.log(
    `npm-build: ${NAME}@${manifest.version} in ${
      relative(root, out)
    }/ (${files.length} files in esm/ from ${entries.join(", ")})`,
  );
}

main();
