/**
 * How an entry (doctor.ts, agent.ts) tells that it is the program being
 * run, not a module imported by one, and finds its arguments.
 *
 * @module
 */

interface Host {
  Deno?: { args: string[] };
  process?: {
    argv: string[];
    getBuiltinModule?: (id: string) => unknown;
  };
}

const host = globalThis as unknown as Host;

/**
 * Whether the module at `url` is the program being run. `main` is that
 * module's `import.meta.main`, which says so in Deno, Bun and Node 24.2+;
 * an older Node leaves it undefined, and then the script Node was started
 * with (`process.argv[1]`, through any symlink such as npm's
 * `.bin/secmem-doctor`) is compared with the module's file. Without the
 * fallback an old Node would print nothing and exit 0, which a CI gate
 * reads as success on a machine where secmem cannot work.
 */
export function isProgram(main: unknown, url: string): boolean {
  if (typeof main === "boolean") return main;
  const script = host.process?.argv[1];
  if (typeof script !== "string" || script === "") return false;
  const builtin = host.process?.getBuiltinModule;
  const fs = builtin?.("node:fs") as
    | { realpathSync(path: string): string }
    | undefined;
  const urls = builtin?.("node:url") as
    | { fileURLToPath(url: string): string }
    | undefined;
  const self = urls?.fileURLToPath(url) ??
    decodeURIComponent(new URL(url).pathname);
  return [script, `${script}.js`].some((path) => {
    try {
      return (fs?.realpathSync(path) ?? path) === self;
    } catch {
      return false;
    }
  });
}

/** The program's arguments, after the runtime's and the script's own. */
export function programArgs(): string[] {
  return host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
}

/** Sets the exit code the process ends with once its work is done. */
export function setExitCode(code: number): void {
  const target = (host.Deno ?? host.process) as { exitCode?: number };
  target.exitCode = code;
}
