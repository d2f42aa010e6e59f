/**
 * One environment variable, read the way each runtime allows: `process.env`
 * in Bun and Node, `Deno.env` in Deno only when the permission is already
 * granted, so that reading it never raises a permission prompt.
 *
 * @module
 */

/** What reading a variable gave: its value, or why it could not be read. */
export interface EnvReading {
  /** The value, or undefined when unset or unreadable. */
  value: string | undefined;
  /** Set when the runtime refused the read (Deno without `--allow-env`). */
  refused?: string;
}

interface DenoEnvHost {
  env: { get(name: string): string | undefined };
  permissions?: {
    querySync?(descriptor: { name: "env"; variable: string }): {
      state: string;
    };
  };
}

interface Host {
  Deno?: DenoEnvHost;
  process?: { env?: Record<string, string | undefined> };
}

/** Reads `name` once; never prompts and never throws. */
export function readEnv(name: string): EnvReading {
  const host = globalThis as unknown as Host;
  const deno = host.Deno;
  if (deno !== undefined) {
    // An interactive Deno would stop to ask; a library must not.
    const state = deno.permissions?.querySync?.({
      name: "env",
      variable: name,
    }).state;
    if (state !== undefined && state !== "granted") {
      return {
        value: undefined,
        refused: `Deno has no env permission for ${name} (--allow-env=${name})`,
      };
    }
    try {
      return { value: deno.env.get(name) };
    } catch (error) {
      return {
        value: undefined,
        refused: `Deno refused to read ${name}: ${(error as Error).name}`,
      };
    }
  }
  return { value: host.process?.env?.[name] };
}
