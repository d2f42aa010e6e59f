/**
 * The agent: a Unix socket server that speaks the ssh-agent protocol
 * (draft-miller-ssh-agent) over keys held in guarded memory, plus the
 * `@secmem` extensions for HMAC and AEAD under named secrets.
 *
 * Every connection's peer is checked before a byte of it is read: the
 * connection is accepted paused, its descriptor asked for SO_PEERCRED
 * through the native layer, and it is closed unless the peer's uid is the
 * agent's own and the descriptor is bound to the agent's socket path. All
 * three runtimes expose the accepted socket's descriptor through
 * `node:net` (`socket._handle.fd`, Deno's included); where it is missing,
 * or the check cannot run, the peer is refused.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { withoutThen } from "../core/_redact.ts";
import { hardenProcess, type HardenResult } from "../core/harden.ts";
import { native } from "../core/_native.ts";
import { SecretBuffer } from "../secret_buffer.ts";
import { type HashName, hmac } from "../crypto/mac.ts";
import { decrypt, encrypt } from "../crypto/cipher.ts";
import { checkSecret } from "../crypto/_input.ts";
import { readOpenSSHPrivateKey } from "../keys/_openssh.ts";
import { Keyring } from "./_keys.ts";
import { Lock } from "./_lock.ts";
import {
  copyInto,
  enlist,
  fillRange,
  lengthOf,
  membersOf,
  Sets,
  strike,
  subarrayOf,
  zero,
} from "../core/_intrinsics.ts";
import { fs, net, type NetSocket, os, path } from "./_host.ts";
import {
  bytesAre,
  CONSTRAIN,
  copyOf,
  ED25519,
  encodeUtf8,
  EXT,
  FieldReader,
  FrameReader,
  FrameWriter,
  MAX_FRAME,
  MAX_SEALED_PLAINTEXT,
  MSG,
} from "./_protocol.ts";

const apply = Reflect.apply;

/** How to start an agent. */
export interface AgentOptions {
  /**
   * The socket's path. Default: `agent.<pid>` in a fresh 0700 directory
   * under the system's temporary directory, removed at close. Either way,
   * no directory above it may be another user's or writable by them.
   */
  socket?: string;
  /** Default lifetime in seconds for keys added without one (`-t`). */
  lifetime?: number;
  /**
   * Harden the process first (`hardenProcess()`) and refuse to start if
   * that fails. Default true; false skips it (for tests and for embedding
   * in a process hardened otherwise).
   */
  harden?: boolean;
  /** Most connections served at once (default 128); more are refused. */
  maxConnections?: number;
  /**
   * Start locked with this passphrase, as after `ssh-add -x`: the agent
   * lists and signs nothing until `ssh-add -X` gives it back. The agent
   * keeps only a MAC of it; the caller still owns and destroys the buffer.
   */
  lockPassphrase?: SecretBuffer;
}

/** A running agent. */
export interface Agent {
  /** The socket's absolute path, for `SSH_AUTH_SOCK`. */
  readonly socketPath: string;
  /** What hardening did (undefined when skipped). */
  readonly hardening: HardenResult | undefined;
  /**
   * Adds an OpenSSH private key file (unencrypted `openssh-key-v1`
   * Ed25519), read from `file`, which the agent wipes and destroys.
   * Returns the public key blob. `comment` replaces the file's own.
   */
  addKeyFile(
    file: SecretBuffer,
    lifetime?: number,
    comment?: string,
  ): Uint8Array;
  /** Generates an Ed25519 key inside the agent; returns its public blob. */
  generateKey(comment: string, lifetime?: number): Uint8Array;
  /**
   * Holds `key` under `name` for the HMAC and AEAD extensions (the agent
   * takes ownership; it destroys the buffer when the secret goes).
   */
  addSecret(name: string, key: SecretBuffer, lifetime?: number): void;
  /** Stops listening, closes every connection and wipes every key. */
  close(): Promise<void>;
}

const KEY_SIZE_MIN = 16;
const KEY_SIZE_MAX = 64;

interface NetHandle {
  fd?: unknown;
}

/** `value` if it is a whole number from `min` to `max`. */
function checkWhole(
  value: unknown,
  what: string,
  min: number,
  max: number,
  unit: string,
): number {
  if (
    typeof value === "number" && Number.isSafeInteger(value) &&
    value >= min && value <= max
  ) {
    return value;
  }
  // Only a number is printed: String() of a Proxy or a Symbol throws,
  // and of an object runs its toString.
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${what}: expected ${unit} from ${min} to ${max}, got ${
      typeof value === "number" ? String(value) : `a ${typeof value}`
    }`,
  );
}

function checkLifetime(value: unknown, what: string): number {
  return value === undefined
    ? 0
    : checkWhole(value, what, 0, 0xffffffff, "whole seconds");
}

/** `value` if it is a string (a comment or a path). */
function checkText(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${what}: expected a string, got ${
      value === null ? "null" : `a ${typeof value}`
    }`,
  );
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || name === "" || name.length > 255) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot use the secret's name: expected a string of 1 to 255 characters",
    );
  }
  return name;
}

/**
 * Hardens the process the way the agent needs (`hardenProcess()`), or
 * throws: an agent that other processes of its user could read must not
 * start.
 *
 * @returns What hardening did.
 * @throws {SecretMemoryError} `OS_ERROR` naming the steps that failed.
 */
export function hardenAgent(): HardenResult {
  const hardening = hardenProcess();
  if (!hardening.hardened) {
    throw new SecretMemoryError(
      "OS_ERROR",
      "Cannot start the agent: hardening the process failed (" +
        Object.entries(hardening.steps).map(([k, v]) => `${k}: ${v.status}`)
          .join(", ") +
        "); pass harden: false (--no-harden) to run anyway",
    );
  }
  return hardening;
}

/**
 * Starts an agent in this process: hardens it (unless `harden: false`),
 * listens on a Unix socket and serves until `close()`.
 *
 * @param options Socket path, default lifetime, hardening.
 * @returns The running agent.
 * @throws {SecretMemoryError} `OS_ERROR` when hardening fails or the
 * socket cannot be made; `INVALID_ARGUMENT` when a directory above the
 * socket is owned or writable (not sticky) by another user;
 * `UNSUPPORTED_PLATFORM` off Linux (the peer check needs SO_PEERCRED).
 *
 * @example Start an agent and list its keys
 * ```ts ignore
 * import { connectAgent, startAgent } from "@secmem/secmem/agent";
 *
 * const agent = await startAgent({ harden: false });
 * agent.generateKey("demo");
 * const client = await connectAgent(agent.socketPath);
 * console.log(await client.list());
 * client.close();
 * await agent.close();
 * ```
 */
export async function startAgent(options: AgentOptions = {}): Promise<Agent> {
  if (typeof options !== "object" || options === null) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot start the agent: options must be an object",
    );
  }
  const defaultLifetime = checkLifetime(options.lifetime, "the lifetime");
  const maxConnections = options.maxConnections === undefined
    ? 128
    : checkWhole(
      options.maxConnections,
      "maxConnections",
      1,
      0x7fffffff,
      "a whole number",
    );
  const memory = native();
  // Called through Reflect.apply taken at load, not bound here: a
  // Function.prototype.bind replaced after import made the peer check,
  // and answered the agent's own uid and path for another user.
  const peerCheck = memory.unixPeer;
  const ownUid = memory.effectiveUid?.();
  if (peerCheck === undefined || ownUid === undefined) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot start the agent on ${memory.os}: it cannot check who connects (no SO_PEERCRED)`,
    );
  }
  // The brand check, not instanceof: an object made from the prototype
  // passes instanceof and would reach the class's methods unchecked.
  const lockPassphrase = options.lockPassphrase === undefined
    ? undefined
    : checkSecret(options.lockPassphrase, "lockPassphrase");
  const hardening = options.harden === false ? undefined : hardenAgent();

  let directory: string | undefined;
  let socketPath: string;
  if (options.socket === undefined) {
    const parent = os().tmpdir();
    checkDirectories(parent, path().join(parent, "secmem-agent-*"), ownUid);
    // mkdtemp makes the directory 0700: only this uid can reach the socket.
    directory = fs().mkdtempSync(path().join(parent, "secmem-agent-"));
    fs().chmodSync(directory, 0o700);
    socketPath = path().join(directory, `agent.${processId()}`);
  } else {
    socketPath = path().resolve(checkText(options.socket, "the socket path"));
    checkDirectories(path().dirname(socketPath), socketPath, ownUid);
  }

  const keys = new Keyring();
  const lock = new Lock();
  // Locked before the socket exists: no client ever sees it unlocked.
  lockPassphrase?.read((view) => lock.lock(view));
  const sockets = new Sets<NetSocket>();
  const server = net().createServer({ pauseOnConnect: true });
  server.maxConnections = maxConnections;

  /** The connection's descriptor when its peer may be served, else -1. */
  const allowedFd = (socket: NetSocket): number => {
    const fd = descriptorOf(socket);
    if (fd < 0) return -1;
    try {
      const peer = apply(peerCheck, memory, [fd]) as ReturnType<
        typeof peerCheck
      >;
      return peer.uid === ownUid && peer.path === socketPath ? fd : -1;
    } catch {
      return -1;
    }
  };
  // Bun's sockets read into one native buffer that is never wiped: a key
  // added over the socket would stay there. Under Bun the agent therefore
  // never lets the socket read, and reads the descriptor itself into
  // guarded memory (serveByDescriptor).
  const direct = memory.runtime === "bun";
  let scratch: SecretBuffer | undefined;

  server.on("connection", (socket: NetSocket) => {
    const fd = allowedFd(socket);
    if (fd < 0) {
      socket.destroy();
      return;
    }
    enlist(sockets, socket);
    socket.on("close", () => strike(sockets, socket));
    const answer = (body: Uint8Array) =>
      handle(body, keys, lock, defaultLifetime);
    if (direct) {
      scratch ??= SecretBuffer.alloc(SCRATCH);
      serveByDescriptor(socket, fd, scratch, answer);
      return;
    }
    serve(socket, answer);
    socket.resume();
  });
  // A failing connection must never take the agent down.
  server.on("error", () => {});

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error) => {
    if (directory !== undefined) fs().rmSync(directory, { recursive: true });
    lock.clear();
    throw new SecretMemoryError(
      "OS_ERROR",
      `Cannot listen on ${socketPath}: ${(error as Error).message}`,
      { cause: error },
    );
  });
  fs().chmodSync(socketPath, 0o600);

  let closing: Promise<void> | undefined;
  const agent: Agent = {
    socketPath,
    hardening,
    addKeyFile(file, lifetime, comment) {
      // Checked before the try: a look-alike is the caller's to keep, and
      // its own destroy() is never called.
      const source = checkSecret(file, "the OpenSSH private key file");
      try {
        const life = checkLifetime(lifetime, "the lifetime") ||
          defaultLifetime;
        const named = comment === undefined
          ? undefined
          : checkText(comment, "the comment");
        const read = readOpenSSHPrivateKey(source);
        return copyOf(
          keys.addKey(
            read.seed,
            named ?? read.comment,
            life,
            read.publicKey,
          ).blob,
        );
      } finally {
        source.destroy();
      }
    },
    generateKey(comment, lifetime) {
      const life = checkLifetime(lifetime, "the lifetime") || defaultLifetime;
      const text = checkText(comment, "the comment");
      return copyOf(keys.addKey(SecretBuffer.random(32), text, life).blob);
    },
    addSecret(name, key, lifetime) {
      const secret = checkSecret(key, "the secret");
      // The sizes the add-secret extension takes: a shorter HMAC or AEAD
      // key is weak, and a longer one is hashed down anyway.
      if (secret.size < KEY_SIZE_MIN || secret.size > KEY_SIZE_MAX) {
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot hold a ${secret.size}-byte secret: expected ${KEY_SIZE_MIN} to ${KEY_SIZE_MAX} bytes; make one with SecretBuffer.random(32)`,
        );
      }
      keys.addSecret(
        checkName(name),
        secret,
        checkLifetime(lifetime, "the lifetime"),
      );
    },
    close() {
      return closing ??= new Promise<void>((resolve) => {
        // By the Set's own methods taken at load: replaced after import,
        // an add or an iterator could keep a connection out of this list,
        // and it would stay open after close().
        const open = membersOf(sockets);
        for (let i = 0; i < open.length; i++) open[i].destroy();
        scratch?.destroy();
        scratch = undefined;
        keys.clear();
        lock.clear();
        server.close(() => {
          try {
            if (directory !== undefined) {
              fs().rmSync(directory, { recursive: true, force: true });
            } else fs().rmSync(socketPath, { force: true });
          } catch {
            // Already gone: nothing to clean.
          }
          resolve();
        });
      });
    },
  };
  // Resolves startAgent: an impostor answered in its stead would be handed
  // every key file and secret the caller then adds.
  withoutThen(agent);
  return agent;
}

/**
 * Refuses `start` when it, or a directory above it, is owned by another
 * user (root aside) or writable by group or others without the sticky
 * bit: that user could rename the socket (or a directory holding it) away
 * and listen in its place, and clients would hand keys and data to them.
 * The uid check guards the agent from its peers, not its clients from an
 * impostor. A directory that does not exist is left to listen to report.
 */
function checkDirectories(
  start: string,
  socketPath: string,
  uid: number,
): void {
  const inspect = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error) {
      // Unchecked is refused (fail closed): say why, e.g. no read permission.
      throw new SecretMemoryError(
        "OS_ERROR",
        `Cannot listen on ${socketPath}: cannot check who can write the directories above it (${
          (error as Error).message
        }); allow reading them, or use a directory that can be checked`,
        { cause: error },
      );
    }
  };
  let dir: string;
  try {
    dir = fs().realpathSync(start);
  } catch (error) {
    // A directory that does not exist: listen says so, naming the path.
    if ((error as { code?: unknown }).code === "ENOENT") return;
    dir = inspect(() => fs().realpathSync(start));
  }
  for (;;) {
    const here = dir;
    const stat = inspect(() => fs().statSync(here));
    const open = (stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0;
    if (open || (stat.uid !== uid && stat.uid !== 0)) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot listen on ${socketPath}: ${dir} is ${
          open
            ? `writable by other users (mode ${
              (stat.mode & 0o7777).toString(8)
            }, not sticky)`
            : `owned by uid ${stat.uid}`
        }, who could replace the socket and pose as the agent; use a directory only you can write`,
      );
    }
    const up = path().dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

function processId(): number {
  const host = globalThis as { Deno?: { pid: number } };
  if (host.Deno !== undefined) return host.Deno.pid;
  return (globalThis as unknown as { process: { pid: number } }).process.pid;
}

/**
 * Reads frames from `socket`, answers each in order, and pauses reading
 * while the peer does not take its answers (so a peer that never reads
 * cannot make the agent queue replies without bound).
 */
function serve(
  socket: NetSocket,
  answer: (body: Uint8Array) => Uint8Array,
): void {
  const frames = new FrameReader(MAX_FRAME);
  socket.on("data", (chunk: Uint8Array) => {
    let ok: boolean;
    try {
      ok = frames.push(chunk, (body) => {
        const reply = answer(body);
        const flushed = socket.write(reply, () => zero(reply));
        if (!flushed) {
          socket.pause();
          socket.once("drain", () => socket.resume());
        }
      });
    } catch {
      ok = false;
    } finally {
      // The chunk may hold a key being added or a passphrase. Wiped (and
      // the frames read) by the intrinsics: a typed-array method replaced
      // after import would be handed it, or skip the wipe.
      zero(chunk);
    }
    if (!ok) {
      frames.clear();
      socket.destroy();
    }
  });
  socket.on("error", () => frames.clear());
  socket.on("close", () => frames.clear());
}

/** The descriptor under a `node:net` socket, or -1 when it has none. */
function descriptorOf(socket: NetSocket): number {
  const handle = (socket as unknown as { _handle?: NetHandle })._handle;
  const fd = handle?.fd;
  return typeof fd === "number" && Number.isSafeInteger(fd) && fd >= 0
    ? fd
    : -1;
}

/** Guarded bytes each read(2) of a connection fills (under Bun). */
const SCRATCH = 16 * 1024;
/** Reads per turn of one connection, so one peer cannot hold the loop. */
const READS_PER_TURN = 16;
/** The longest wait, in ms, between polls of an idle connection. */
const IDLE_POLL = 50;
const EAGAIN = 11;

/**
 * Serves `socket` without ever letting the runtime read it: the socket
 * stays paused (Bun then watches its descriptor only for errors and
 * hang-up, and never calls recv on it), and the agent reads `fd` itself
 * with read(2) into the guarded `scratch`, wiped after each read. The
 * descriptor is non-blocking, so an empty read answers EAGAIN; with no
 * readiness event to wait on, the agent polls: at once while bytes keep
 * coming, then backing off to once per `IDLE_POLL` ms. Replies still go
 * out through the socket.
 */
function serveByDescriptor(
  socket: NetSocket,
  fd: number,
  scratch: SecretBuffer,
  answer: (body: Uint8Array) => Uint8Array,
): void {
  const memory = native();
  const frames = new FrameReader(MAX_FRAME);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = 0;
  let ended = false;
  let draining = false;

  const stop = (): void => {
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    frames.clear();
  };
  const schedule = (): void => {
    if (!ended && !draining && timer === undefined) {
      timer = setTimeout(poll, delay);
    }
  };
  const onFrame = (body: Uint8Array): void => {
    const reply = answer(body);
    const flushed = socket.write(reply, () => zero(reply));
    if (!flushed) {
      draining = true;
      socket.once("drain", () => {
        draining = false;
        delay = 0;
        schedule();
      });
    }
  };
  /** One read(2): the count, 0 at end of input, -1 when nothing waits. */
  const readOnce = (): number =>
    scratch.write((bytes) => {
      let count: number;
      try {
        count = memory.readInto(fd, scratch.address, lengthOf(bytes));
      } catch (error) {
        if (error instanceof SecretMemoryError && error.errno === EAGAIN) {
          return -1;
        }
        throw error;
      }
      try {
        if (count > 0 && !frames.push(subarrayOf(bytes, 0, count), onFrame)) {
          throw new SecretMemoryError(
            "INVALID_ARGUMENT",
            "Cannot serve the connection: a frame's length is 0 or too large",
          );
        }
      } finally {
        fillRange(bytes, 0, 0, count);
      }
      return count;
    });

  const poll = (): void => {
    timer = undefined;
    // The runtime closes the descriptor when the socket ends; its number
    // may then name another file, which must never be read.
    if (ended || socket.destroyed || descriptorOf(socket) !== fd) {
      stop();
      return;
    }
    let got = false;
    let end = false;
    try {
      for (let turn = 0; turn < READS_PER_TURN && !draining; turn++) {
        const count = readOnce();
        if (count < 0) break;
        if (count === 0) {
          end = true;
          break;
        }
        got = true;
      }
    } catch {
      stop();
      socket.destroy();
      return;
    }
    if (end) {
      // The peer is done sending; replies already queued still go out.
      stop();
      socket.end();
      return;
    }
    delay = got ? 0 : Math.min(IDLE_POLL, Math.max(1, delay * 2));
    schedule();
  };

  socket.on("error", stop);
  socket.on("close", stop);
  schedule();
}

const failure = (): Uint8Array => new FrameWriter(MSG.FAILURE, 8).frame();
const success = (): Uint8Array => new FrameWriter(MSG.SUCCESS, 8).frame();

/** Answers one request; never throws (a bad request gets a failure). */
function handle(
  body: Uint8Array,
  keys: Keyring,
  lock: Lock,
  defaultLifetime: number,
): Uint8Array {
  try {
    return dispatch(body, keys, lock, defaultLifetime);
  } catch {
    return failure();
  }
}

function dispatch(
  body: Uint8Array,
  keys: Keyring,
  lock: Lock,
  defaultLifetime: number,
): Uint8Array {
  const r = new FieldReader(body);
  const type = r.byte();
  if (lock.locked) {
    // A locked agent lists nothing and does nothing but unlock.
    if (type === MSG.REQUEST_IDENTITIES) {
      return new FrameWriter(MSG.IDENTITIES_ANSWER, 8).uint32(0).frame();
    }
    if (type !== MSG.UNLOCK) return failure();
  }
  switch (type) {
    case MSG.REQUEST_IDENTITIES: {
      const held = keys.keys();
      const w = new FrameWriter(MSG.IDENTITIES_ANSWER, 256);
      w.uint32(held.length);
      // By index: the array iterator, replaced after import, would be
      // handed each held key (its Ed25519Key signs for whoever holds it).
      for (let i = 0; i < held.length; i++) {
        w.string(held[i].blob).string(utf8(held[i].comment));
      }
      return w.frame();
    }
    case MSG.SIGN_REQUEST: {
      const blob = r.string();
      const data = r.string();
      r.uint32(); // flags: only RSA has any; Ed25519 ignores them
      if (r.left !== 0) return failure();
      const signature = keys.sign(blob, data);
      if (signature === undefined) return failure();
      // Cut and copied by the intrinsics (here and below): a `subarray` or
      // `slice` replaced after import would choose the signature sent, the
      // public key a key is checked against, or the message decrypted.
      const inner = subarrayOf(
        new FrameWriter(0, 96).string(ED25519).string(signature).frame(),
        5,
      );
      return new FrameWriter(MSG.SIGN_RESPONSE, 128).string(inner).frame();
    }
    case MSG.ADD_IDENTITY:
    case MSG.ADD_ID_CONSTRAINED:
      return addIdentity(
          r,
          type === MSG.ADD_ID_CONSTRAINED,
          keys,
          defaultLifetime,
        )
        ? success()
        : failure();
    case MSG.REMOVE_IDENTITY: {
      const blob = r.string();
      if (r.left !== 0) return failure();
      return keys.removeKey(blob) ? success() : failure();
    }
    case MSG.REMOVE_ALL_IDENTITIES:
      if (r.left !== 0) return failure();
      keys.removeAllKeys();
      return success();
    case MSG.LOCK: {
      const passphrase = r.string();
      return r.left === 0 && lock.lock(passphrase) ? success() : failure();
    }
    case MSG.UNLOCK: {
      const passphrase = r.string();
      return r.left === 0 && lock.unlock(passphrase) ? success() : failure();
    }
    case MSG.EXTENSION:
      return extension(r, keys, defaultLifetime);
    default:
      return failure();
  }
}

// By the encoder taken at load (a replacement could list other names).
const utf8 = encodeUtf8;

/**
 * ADD_IDENTITY: string "ssh-ed25519", string A (32), string seed ‖ A (64),
 * string comment, then (constrained) constraints. Any key type but Ed25519
 * and any constraint but a lifetime is refused, so a caller never believes
 * a constraint holds that does not.
 */
function addIdentity(
  r: FieldReader,
  constrained: boolean,
  keys: Keyring,
  defaultLifetime: number,
): boolean {
  if (!bytesAre(r.string(), ED25519)) return false;
  const publicKey = r.string();
  const secret = r.string();
  const comment = r.text();
  if (lengthOf(publicKey) !== 32 || lengthOf(secret) !== 64) return false;
  let lifetime = defaultLifetime;
  let limited = false;
  while (constrained && r.left > 0) {
    const constraint = r.byte();
    // Refused: a second lifetime (which one holds?), and a lifetime of 0,
    // which here would mean "forever" and outlive the -t default (OpenSSH
    // reads it as "expire now"; ssh-add never sends it).
    if (constraint !== CONSTRAIN.LIFETIME || limited) return false;
    lifetime = r.uint32();
    if (lifetime === 0) return false;
    limited = true;
  }
  if (r.left !== 0) return false;
  // The seed goes straight into guarded memory; `from` wipes the frame's
  // copy (and the frame itself is wiped once answered).
  const seed = SecretBuffer.from(subarrayOf(secret, 0, 32));
  zero(secret);
  keys.addKey(seed, comment, lifetime, copyOf(publicKey));
  return true;
}

// No prototype: a peer's "__proto__" or "constructor" names no hash.
const HASHES: Record<string, HashName> = Object.assign(
  Object.create(null),
  { "SHA-256": "SHA-256", "SHA-512": "SHA-512" },
);

function extensionFailure(): Uint8Array {
  return new FrameWriter(MSG.EXTENSION_FAILURE, 8).frame();
}

/** The `@secmem` extensions; see the README's "Agent" section. */
function extension(
  r: FieldReader,
  keys: Keyring,
  defaultLifetime: number,
): Uint8Array {
  const name = r.text();
  try {
    switch (name) {
      case EXT.QUERY: {
        const w = new FrameWriter(MSG.SUCCESS, 256);
        for (const known of Object.values(EXT)) w.string(known);
        return w.frame();
      }
      case EXT.ADD_SECRET: {
        const secretName = checkName(r.text());
        const bytes = r.string();
        const lifetime = r.uint32();
        if (
          r.left !== 0 || lengthOf(bytes) < KEY_SIZE_MIN ||
          lengthOf(bytes) > KEY_SIZE_MAX
        ) {
          zero(bytes);
          return extensionFailure();
        }
        keys.addSecret(secretName, SecretBuffer.from(bytes), lifetime);
        return success();
      }
      case EXT.GENERATE_SECRET: {
        const secretName = checkName(r.text());
        const size = r.uint32();
        const lifetime = r.uint32();
        if (r.left !== 0 || size < KEY_SIZE_MIN || size > KEY_SIZE_MAX) {
          return extensionFailure();
        }
        keys.addSecret(secretName, SecretBuffer.random(size), lifetime);
        return success();
      }
      case EXT.REMOVE_SECRET: {
        const secretName = r.text();
        return r.left === 0 && keys.removeSecret(secretName)
          ? success()
          : extensionFailure();
      }
      case EXT.LIST_SECRETS: {
        const held = keys.secrets();
        const w = new FrameWriter(MSG.SUCCESS, 64).uint32(held.length);
        for (const s of held) w.string(utf8(s.name)).uint32(s.size);
        return w.frame();
      }
      case EXT.GENERATE_KEY: {
        const comment = r.text();
        const lifetime = r.uint32() || defaultLifetime;
        if (r.left !== 0) return extensionFailure();
        const key = keys.addKey(SecretBuffer.random(32), comment, lifetime);
        return new FrameWriter(MSG.SUCCESS, 64).string(key.blob).frame();
      }
      case EXT.HMAC: {
        const key = keys.secret(r.text());
        const hash = HASHES[r.text()];
        const data = r.string();
        if (key === undefined || hash === undefined || r.left !== 0) {
          return extensionFailure();
        }
        const mac = hmac(hash, key, data);
        try {
          return new FrameWriter(MSG.SUCCESS, 80).string(mac).frame();
        } finally {
          // The frame is the copy that goes out (wiped once sent).
          zero(mac);
        }
      }
      case EXT.ENCRYPT: {
        const key = keys.secret(r.text());
        const plaintext = r.string();
        const aad = r.string();
        if (
          key === undefined || key.size !== 32 || r.left !== 0 ||
          lengthOf(plaintext) > MAX_SEALED_PLAINTEXT
        ) {
          zero(plaintext);
          return extensionFailure();
        }
        const message = encrypt(key, plaintext, { aad: copyOf(aad) });
        zero(plaintext);
        return new FrameWriter(MSG.SUCCESS, lengthOf(message) + 16)
          .string(message)
          .frame();
      }
      case EXT.DECRYPT: {
        const key = keys.secret(r.text());
        const message = r.string();
        const aad = r.string();
        if (key === undefined || key.size !== 32 || r.left !== 0) {
          return extensionFailure();
        }
        const plaintext = decrypt(key, copyOf(message), {
          aad: copyOf(aad),
        });
        try {
          return new FrameWriter(MSG.SUCCESS, plaintext.size + 16)
            .stringWith(
              plaintext.size,
              (out) => plaintext.read((p) => copyInto(out, p)),
            )
            .frame();
        } finally {
          plaintext.destroy();
        }
      }
      default:
        // An extension we do not know: the draft says SSH_AGENT_FAILURE.
        return failure();
    }
  } catch {
    return extensionFailure();
  }
}
