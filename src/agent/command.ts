/**
 * The `secmem-agent` command: ssh-agent's flags where they fit, the shell
 * lines on stdout, and a clean end (every key wiped, the socket removed)
 * on SIGTERM, SIGINT and SIGHUP, or when the parent dies if asked.
 *
 * Without `-D` the command starts itself again in the background with
 * `-D` (JavaScript runtimes cannot fork), waits for that process to print
 * its lines, prints them and exits, as ssh-agent does.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { native } from "../core/_native.ts";
import { purge } from "../core/_registry.ts";
import { SecretBuffer } from "../secret_buffer.ts";
import { type Agent, startAgent } from "./server.ts";
import { childProcess, hostProcess, url } from "./_host.ts";

interface Flags {
  socket?: string;
  foreground: boolean;
  lifetime: number;
  kill: boolean;
  keys: string[];
  generate: string[];
  secrets: string[];
  exitWithParent: boolean;
  harden: boolean;
}

const UNITS: Record<string, number> = {
  "": 1,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
};

/** ssh-agent's time format: `600`, `10m`, `1h30m`. */
export function parseLifetime(text: string): number {
  if (!/^(\d+[smhdw]?)+$/i.test(text)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use -t ${text}: expected seconds or a time like 1h30m`,
    );
  }
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhdw]?)/gi)) {
    total += Number(n) * UNITS[unit.toLowerCase()];
  }
  if (!Number.isSafeInteger(total) || total > 0xffffffff) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use -t ${text}: longer than 2^32 - 1 seconds`,
    );
  }
  return total;
}

function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = {
    foreground: false,
    lifetime: 0,
    kill: false,
    keys: [],
    generate: [],
    secrets: [],
    exitWithParent: false,
    harden: true,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) {
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot use ${arg}: it needs a value`,
        );
      }
      return next;
    };
    switch (arg) {
      case "-a":
        flags.socket = value();
        break;
      case "-D":
      case "-d":
        flags.foreground = true;
        break;
      case "-s":
        break; // Bourne shell syntax is the only one printed
      case "-t":
        flags.lifetime = parseLifetime(value());
        break;
      case "-k":
        flags.kill = true;
        break;
      case "--key":
        flags.keys.push(value());
        break;
      case "--generate":
        flags.generate.push(value());
        break;
      case "--secret":
        flags.secrets.push(value());
        break;
      case "--exit-with-parent":
        flags.exitWithParent = true;
        break;
      case "--no-harden":
        flags.harden = false;
        break;
      default:
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot use ${arg}: usage: secmem-agent [-D] [-a SOCKET] [-t LIFE] [-k] [--key FILE] [--generate COMMENT] [--secret NAME] [--exit-with-parent] [--no-harden]`,
        );
    }
  }
  return flags;
}

const print = (text: string): void => {
  hostProcess().stdout.write(`${text}\n`);
};

/** Runs the command with `args`; `moduleUrl` is agent.ts's own URL. */
export function runAgentCommand(
  args: readonly string[],
  moduleUrl: string,
): void {
  let flags: Flags;
  try {
    flags = parseFlags(args);
  } catch (error) {
    console.error(`secmem-agent: ${(error as Error).message}`);
    hostProcess().exitCode = 1;
    return;
  }
  if (flags.kill) return killAgent();
  if (!flags.foreground) return background(args, moduleUrl);
  foreground(flags).catch((error) => {
    console.error(`secmem-agent: ${(error as Error).message}`);
    hostProcess().exit(1);
  });
}

function killAgent(): void {
  const pid = Number(hostProcess().env.SSH_AGENT_PID);
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    console.error("secmem-agent: SSH_AGENT_PID is not set, cannot kill agent");
    hostProcess().exitCode = 1;
    return;
  }
  hostProcess().kill(pid, "SIGTERM");
  print("unset SSH_AUTH_SOCK;\nunset SSH_AGENT_PID;");
  print(`echo Agent pid ${pid} killed;`);
}

async function foreground(flags: Flags): Promise<void> {
  const agent: Agent = await startAgent({
    socket: flags.socket,
    lifetime: flags.lifetime,
    harden: flags.harden,
  });
  const memory = native();
  let ending = false;
  const end = (code: number) => {
    if (ending) return;
    ending = true;
    agent.close().finally(() => {
      purge();
      memory.exit(code);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    memory.onSignal(signal, () => end(0));
  }
  try {
    for (const file of flags.keys) {
      agent.addKeyFile(SecretBuffer.fromFileSync(file, { maxSize: 64 * 1024 }));
    }
    for (const comment of flags.generate) agent.generateKey(comment);
    for (const name of flags.secrets) {
      agent.addSecret(name, SecretBuffer.random(32));
    }
  } catch (error) {
    await agent.close();
    throw error;
  }
  if (flags.exitWithParent) {
    const parent = hostProcess().ppid;
    setInterval(() => {
      if (hostProcess().ppid !== parent) end(0);
    }, 500);
  }
  print(`SSH_AUTH_SOCK=${agent.socketPath}; export SSH_AUTH_SOCK;`);
  print(`SSH_AGENT_PID=${hostProcess().pid}; export SSH_AGENT_PID;`);
  print(`echo Agent pid ${hostProcess().pid};`);
}

/** Starts `agent.ts -D` detached, relays its first lines, and returns. */
function background(args: readonly string[], moduleUrl: string): void {
  const script = url().fileURLToPath(moduleUrl);
  const host = globalThis as { Deno?: { execPath(): string } };
  const runtimeArgs = host.Deno !== undefined
    ? [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      // Deno 2.9 asks net permission to listen on a Unix socket.
      "--allow-net",
      script,
    ]
    : [...hostProcess().execArgv, script];
  const child = childProcess().spawn(
    host.Deno?.execPath() ?? hostProcess().execPath,
    [...runtimeArgs, ...args, "-D"],
    // No descriptor of ours stays open in the agent (as ssh-agent closes
    // its stdio): a caller reading our output to its end must not wait
    // for the agent's.
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr!.on(
    "data",
    (chunk: Uint8Array) => hostProcess().stderr.write(chunk),
  );
  let out = "";
  child.stdout!.on("data", (chunk: Uint8Array) => {
    out += new TextDecoder().decode(chunk);
    if (out.includes("echo Agent pid")) {
      hostProcess().stdout.write(out);
      child.stdout!.destroy();
      child.stderr!.destroy();
      child.unref();
      hostProcess().exit(0);
    }
  });
  child.on("exit", (code) => {
    console.error(`secmem-agent: the agent exited (${code}) before it started`);
    hostProcess().exit(1);
  });
}
