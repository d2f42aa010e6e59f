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
import { append } from "../core/_intrinsics.ts";
import { SecretBuffer } from "../secret_buffer.ts";
import { promptSecret } from "../prompt.ts";
import { readOpenSSHPrivateKey } from "../keys/_openssh.ts";
import { type Agent, hardenAgent, startAgent } from "./server.ts";
import { childProcess, fs, hostProcess, url } from "./_host.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const Number = globalThis.Number;

/** A `--key FILE`, with the `--comment` that followed it. */
interface KeyFlag {
  path: string;
  comment?: string;
}

interface Flags {
  socket?: string;
  foreground: boolean;
  lifetime: number;
  kill: boolean;
  keys: KeyFlag[];
  prompt: boolean;
  generate: string[];
  secrets: string[];
  exitWithParent: boolean;
  harden: boolean;
  help: boolean;
}

const USAGE =
  `usage: secmem-agent [-D] [-a SOCKET] [-t LIFE] [-k] [--key FILE [--comment TEXT]]... [--prompt] [--generate COMMENT]... [--secret NAME]... [--exit-with-parent] [--no-harden]
An ssh-agent whose Ed25519 keys live in guarded memory. It prints the
SSH_AUTH_SOCK and SSH_AGENT_PID lines for the shell to evaluate.
  -a SOCKET            listen here (default: a fresh 0700 directory)
  -D                   stay in the foreground
  -t LIFE              lifetime of keys added without one (600, 10m, 1h30m)
  -k                   stop the agent of SSH_AGENT_PID
  --key FILE           hold this unencrypted OpenSSH Ed25519 private key,
                       read into guarded memory (repeatable; -t applies)
  --comment TEXT       the comment ssh-add -l shows for the --key before it
  --prompt             ask on the terminal for a lock passphrase (twice) and
                       start locked: nothing is listed or signed until
                       ssh-add -X gives it back
  --generate COMMENT   make an Ed25519 key inside the agent (repeatable)
  --secret NAME        make a 32-byte secret for HMAC/AEAD (repeatable)
  --exit-with-parent   exit, wiping every key, when the parent ends
  --no-harden          run even if hardening the process fails`;

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
    prompt: false,
    generate: [],
    secrets: [],
    exitWithParent: false,
    harden: true,
    help: false,
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
        flags.keys.push({ path: value() });
        break;
      case "--comment": {
        const key = flags.keys.at(-1);
        if (key === undefined || key.comment !== undefined) {
          throw new SecretMemoryError(
            "INVALID_ARGUMENT",
            "Cannot use --comment: it names the key of the --key FILE just before it",
          );
        }
        key.comment = value();
        break;
      }
      case "--prompt":
        flags.prompt = true;
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
      case "-h":
      case "--help":
        flags.help = true;
        break;
      default:
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot use ${arg}: ${USAGE.split("\n")[0]} (--help tells more)`,
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
  if (flags.help) return print(USAGE);
  if (flags.kill) return killAgent();
  if (!flags.foreground) return background(args, moduleUrl, flags.prompt);
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
  const memory = native();
  // The agent once startAgent was called: a signal while it starts must
  // wait for the socket, so as to remove it.
  let starting: Promise<Agent> | undefined;
  let ending = false;
  const end = (code: number) => {
    if (ending) return;
    ending = true;
    const closed = starting?.then((agent) => agent.close(), () => {});
    (closed ?? Promise.resolve()).finally(() => {
      purge();
      memory.exit(code);
    });
  };
  // Before the prompt: a signal while it waits must still restore the
  // terminal (the exit runs the prompt's cleanup) and wipe what was typed.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // Ended before it served: not a success.
    memory.onSignal(signal, () => end(starting === undefined ? 1 : 0));
  }
  // Hardened before any secret is read, so none is ever in a process that
  // the same user could ptrace or dump.
  if (flags.harden) hardenAgent();
  // Every key file is read and checked, and the passphrase asked, before
  // the socket exists: a bad file or a cancelled prompt leaves nothing
  // listening and no directory behind.
  const files: { file: SecretBuffer; comment?: string }[] = [];
  let passphrase: SecretBuffer | undefined;
  let agent: Agent | undefined;
  try {
    for (const key of flags.keys) {
      append(files, { file: readKeyFile(key.path), comment: key.comment });
    }
    if (flags.prompt) {
      passphrase = await promptLockPassphrase();
      releaseTerminal();
    }
    starting = startAgent({
      socket: flags.socket,
      lifetime: flags.lifetime,
      harden: false,
      lockPassphrase: passphrase,
    });
    agent = await starting;
    // One at a time off the list: addKeyFile destroys the file it is
    // given, and the catch below those still waiting.
    while (files.length > 0) {
      const { file, comment } = files.shift()!;
      agent.addKeyFile(file, undefined, comment);
    }
    for (const comment of flags.generate) agent.generateKey(comment);
    for (const name of flags.secrets) {
      agent.addSecret(name, SecretBuffer.random(32));
    }
  } catch (error) {
    for (const { file } of files) file.destroy();
    await agent?.close();
    throw error;
  } finally {
    passphrase?.destroy();
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

/**
 * Reads `--key FILE` straight into guarded memory and checks that it is a
 * key the agent can hold, so that a bad file fails before the agent
 * listens. The parsed seed is dropped: `addKeyFile` parses it again.
 */
function readKeyFile(path: string): SecretBuffer {
  let file: SecretBuffer;
  try {
    // A key file is a few hundred bytes; 64 KiB refuses a wrong path
    // (a log, a disk image) before reading much of it.
    file = SecretBuffer.fromFileSync(path, { maxSize: 64 * 1024 });
  } catch (error) {
    throw keyFileError(path, error);
  }
  try {
    readOpenSSHPrivateKey(file).seed.destroy();
    return file;
  } catch (error) {
    file.destroy();
    throw keyFileError(path, error);
  }
}

/** The reader's error, reworded to name the file, the flag and a remedy. */
function keyFileError(path: string, error: unknown): unknown {
  if (!(error instanceof SecretMemoryError)) return error;
  // maxSize is ours here, not the user's to raise: say what it means.
  const detail = error.code === "TOO_LARGE"
    ? "it is longer than 64 KiB, far more than a key file"
    : error.message.replace(/^Cannot read [^:]*: /, "");
  const remedy = /passphrase/.test(detail)
    ? "; or start the agent without --key and run ssh-add on the file, which asks for the passphrase"
    : (error.code === "INVALID_KEY" || error.code === "TOO_LARGE") &&
        !detail.includes("ssh-keygen")
    ? "; --key takes the private key file that ssh-keygen -t ed25519 writes (not the .pub), without a passphrase"
    : "";
  return new SecretMemoryError(
    error.code,
    `Cannot hold the key in ${
      JSON.stringify(path)
    } (--key): ${detail}${remedy}`,
    { cause: error },
  );
}

/**
 * `--prompt`: the lock passphrase, typed twice with echo off (as
 * `ssh-add -x` asks), into guarded memory.
 */
async function promptLockPassphrase(): Promise<SecretBuffer> {
  const first = await ask("Enter lock passphrase: ");
  try {
    if (first.size === 0) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot lock the agent (--prompt): the passphrase is empty; type one, or start without --prompt",
      );
    }
    const again = await ask("Again: ");
    try {
      if (!first.equals(again)) {
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          "Cannot lock the agent (--prompt): the two passphrases differ; start it again",
        );
      }
    } finally {
      again.destroy();
    }
    return first;
  } catch (error) {
    first.destroy();
    throw error;
  }
}

/**
 * Puts /dev/null on stdin once the prompt is done, as ssh-agent does: a
 * background agent that kept the terminal open would hold it after the
 * shell that started it has gone. (The lowest free descriptor is 0 once
 * it is closed; if a runtime thread took it first, stdin is merely gone.)
 * The handle is kept for the process's life, so that no finalizer of the
 * runtime's closes descriptor 0 behind the agent's back.
 */
const stdinStandIn: unknown[] = [];

function releaseTerminal(): void {
  const deno = (globalThis as {
    Deno?: { openSync(path: string): unknown };
  }).Deno;
  try {
    native().close(0);
    // Deno's node:fs open does not land on descriptor 0; its own does.
    stdinStandIn.push(
      deno?.openSync("/dev/null") ?? fs().openSync("/dev/null", "r"),
    );
  } catch {
    // The agent never reads stdin again: a terminal left open is untidy,
    // not unsafe.
  }
}

async function ask(prompt: string): Promise<SecretBuffer> {
  try {
    return await promptSecret(prompt);
  } catch (error) {
    if (
      error instanceof SecretMemoryError && error.code === "NOT_A_TERMINAL"
    ) {
      throw new SecretMemoryError(
        "NOT_A_TERMINAL",
        "Cannot use --prompt: stdin is not a terminal; start the agent in a terminal, or without --prompt and lock it with ssh-add -x",
        { cause: error },
      );
    }
    throw error;
  }
}

/** Starts `agent.ts -D` detached, relays its first lines, and returns. */
function background(
  args: readonly string[],
  moduleUrl: string,
  prompt: boolean,
): void {
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
    // Only --prompt lends the agent our stdin: the terminal it asks on.
    {
      detached: true,
      stdio: [prompt ? "inherit" : "ignore", "pipe", "pipe"],
    },
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
  // "close", not "exit": the agent's last words on stderr come first.
  child.on("close", (code) => {
    console.error(`secmem-agent: the agent exited (${code}) before it started`);
    hostProcess().exit(1);
  });
}
