/**
 * A client for ssh-agent's protocol in plain JavaScript, over `node:net`
 * (which Deno, Bun and Node all have): no FFI, so a Deno app needs only
 * `--allow-read`/`--allow-write` for the socket (and
 * `--allow-env=SSH_AUTH_SOCK` to find it). Requests may be in flight at
 * once on one connection; the agent answers them in order.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { withoutThen } from "../core/_redact.ts";
import { decodeBase64Into, decodedMax } from "../keys/_base64.ts";
import {
  bytesAre,
  CONSTRAIN,
  copyOf,
  ED25519,
  EXT,
  FieldReader,
  FrameReader,
  FrameWriter,
  MAX_FRAME,
  MAX_SEALED_PLAINTEXT,
  MSG,
  secretBytes,
} from "./_protocol.ts";
import { net, type NetSocket } from "./_host.ts";
import {
  append,
  awaitable,
  Bytes,
  isUint8Array,
  lengthOf,
  subarrayOf,
  zero,
} from "../core/_intrinsics.ts";

// Taken at load: the queue hands each reply (a plaintext, say) to the
// request it answers, and a `shift` replaced later could hand it to a
// request of its own. Requests join it by `append`: a push, even the
// intrinsic one, sets a new element through a setter planted on
// Array.prototype, which would be handed the request's resolver.
const apply = Reflect.apply;
const arrayShift = Array.prototype.shift;
const freeze = Object.freeze;
// Taken at load: each request's promise is made from it, and a Promise
// replaced later (a subclass whose executor wraps `resolve`) would be
// handed every reply, a decrypted plaintext or an HMAC among them.
const PromiseConstructor = Promise;

/** One identity the agent holds. */
export interface AgentIdentity {
  /** The key type, for example `ssh-ed25519`. */
  type: string;
  /** The public key blob, as the protocol names keys. */
  blob: Uint8Array;
  /**
   * The public key line, `ssh-ed25519 AAAA… comment`, on one line: control
   * characters of the comment show as "?".
   */
  publicKey: string;
  /** The comment. */
  comment: string;
}

/** Options for adding a key. */
export interface AddKeyOptions {
  /** Seconds until the agent forgets the key (0 or absent: never). */
  lifetime?: number;
  /** The comment to list it under (default: the file's own). */
  comment?: string;
}

/** Something whose bytes can be read in a scope, as a SecretBuffer's. */
export interface ReadableSecret {
  /** Calls `fn` with a view of the bytes; returns what it returns. */
  read<T>(fn: (bytes: Uint8Array) => T): T;
}

interface Pending {
  resolve(body: Uint8Array): void;
  reject(error: unknown): void;
}

// Taken at load: a replacement made later must not decide what is sent.
const isInteger = Number.isInteger;

/**
 * `value` if it is a real Uint8Array. The frame is then written by the
 * engine's own length (FrameWriter): a look-alike `{ length: 4 }` or an
 * own `length` property would otherwise send other bytes than the caller
 * holds, and the agent would sign or MAC those.
 */
function bytesArg(value: unknown, what: string): Uint8Array {
  if (isUint8Array(value)) return value;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot send ${what} to the agent: expected a Uint8Array, got ${typeof value}`,
  );
}

/** `value` if it is a whole number that fits a uint32 field unchanged. */
function uint32Arg(value: unknown, what: string): number {
  if (
    typeof value === "number" && isInteger(value) && value >= 0 &&
    value <= 0xffffffff
  ) {
    return value;
  }
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${
      typeof value === "number" ? String(value) : typeof value
    } as ${what}: expected a whole number from 0 to 2^32 - 1 (a uint32 field would wrap anything else)`,
  );
}

/** `value` if it is a string (a name or a comment). */
function textArg(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot send ${what} to the agent: expected a string, got ${typeof value}`,
  );
}

/**
 * `text` with each control character shown as "?". A key's comment is
 * whatever a client of the agent gave it; a line break in the `publicKey`
 * line would add a line (another key) to the authorized_keys file an app
 * writes it to.
 */
function oneLine(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? "?" : text[i];
  }
  return out;
}

function protocolError(what: string): SecretMemoryError {
  return new SecretMemoryError("INPUT_ERROR", `The agent ${what}`);
}

function base64(bytes: Uint8Array): string {
  const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) |
      (bytes[i + 2] ?? 0);
    out += alphabet[n >>> 18] + alphabet[(n >>> 12) & 63] +
      (i + 1 < bytes.length ? alphabet[(n >>> 6) & 63] : "=") +
      (i + 2 < bytes.length ? alphabet[n & 63] : "=");
  }
  return out;
}

/** A connection to an agent. */
export class AgentClient {
  readonly #socket: NetSocket;
  readonly #queue: Pending[] = [];
  readonly #frames = new FrameReader(MAX_FRAME);
  #closed: Error | undefined;

  /** Use `connectAgent`. */
  constructor(socket: NetSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      const ok = this.#frames.push(chunk, (body) => {
        // The reader wipes `body` after this returns: hand out a copy.
        const copy = handedOut(body);
        (apply(arrayShift, this.#queue, []) as Pending | undefined)?.resolve(
          copy,
        );
      });
      // A decrypted plaintext may be in the chunk. Wiped by the intrinsic
      // (so are the frames and replies): a typed-array method replaced
      // after import would be handed it, or skip the wipe.
      zero(chunk);
      if (!ok) this.#fail(protocolError("sent an oversized frame"));
    });
    socket.on("error", (error) => this.#fail(error));
    socket.on(
      "close",
      () => this.#fail(protocolError("closed the connection")),
    );
  }

  #fail(error: unknown): void {
    this.#closed ??= error instanceof Error ? error : new Error(String(error));
    this.#frames.clear();
    // By index, emptied by length: a splice or iterator replaced after
    // import would be handed each pending resolve, and could answer a
    // decrypt or a sign in the agent's stead.
    const queue = this.#queue;
    const count = queue.length;
    for (let i = 0; i < count; i++) queue[i].reject(this.#closed);
    queue.length = 0;
    this.#socket.destroy();
  }

  /** Sends one request frame; resolves to the reply's body. */
  request(frame: Uint8Array): Promise<Uint8Array> {
    if (this.#closed !== undefined) {
      return PromiseConstructor.reject(this.#closed);
    }
    if (lengthOf(frame) - 4 > MAX_FRAME) {
      // The agent would close the connection on it, failing every call
      // still waiting for an answer.
      const size = lengthOf(frame) - 4;
      zero(frame);
      return PromiseConstructor.reject(
        new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot send a ${size}-byte request: the agent takes at most ${MAX_FRAME} bytes a message; send less data at once`,
        ),
      );
    }
    return awaitable(
      new PromiseConstructor<Uint8Array>((resolve, reject) => {
        append(this.#queue, { resolve, reject });
        this.#socket.write(frame, () => zero(frame));
      }),
    );
  }

  async #expectSuccess(frame: Uint8Array, what: string): Promise<void> {
    const reply = await this.request(frame);
    if (reply[0] !== MSG.SUCCESS) throw refused(what);
  }

  /** The identities the agent holds. */
  async list(): Promise<AgentIdentity[]> {
    const reply = await this.request(
      new FrameWriter(MSG.REQUEST_IDENTITIES, 8).frame(),
    );
    if (reply[0] !== MSG.IDENTITIES_ANSWER) throw refused("listing keys");
    const r = new FieldReader(reply, 1);
    const count = r.uint32();
    const out: AgentIdentity[] = [];
    for (let i = 0; i < count; i++) {
      const blob = handedOut(r.string());
      const comment = r.text();
      const type = new FieldReader(blob).text();
      const shown = oneLine(comment);
      const publicKey = `${type} ${base64(blob)}${shown ? ` ${shown}` : ""}`;
      out.push({ type, blob, publicKey, comment });
    }
    return out;
  }

  /**
   * The raw signature (64 bytes for Ed25519) of `data` by the key of
   * `blob`. `flags` are the protocol's (RSA hash choice); Ed25519 has none.
   */
  async sign(
    blob: Uint8Array,
    data: Uint8Array,
    flags = 0,
  ): Promise<Uint8Array> {
    const frame = new FrameWriter(MSG.SIGN_REQUEST, 256)
      .string(bytesArg(blob, "the key blob"))
      .string(bytesArg(data, "the data to sign"))
      .uint32(uint32Arg(flags, "the flags")).frame();
    const reply = await this.request(frame);
    if (reply[0] !== MSG.SIGN_RESPONSE) throw refused("signing");
    const inner = new FieldReader(new FieldReader(reply, 1).string());
    inner.string(); // the algorithm's name
    return handedOut(inner.string());
  }

  /**
   * Adds an unencrypted OpenSSH Ed25519 private key file (its text, as
   * bytes or in a SecretBuffer), with the standard ADD_IDENTITY message,
   * so OpenSSH's agent takes it too. The file is decoded on the heap of
   * this process (a client has no guarded memory) and every copy this
   * call made is wiped before it resolves.
   */
  async add(
    file: Uint8Array | ReadableSecret,
    options: AddKeyOptions = {},
  ): Promise<void> {
    const lifetime = uint32Arg(options.lifetime ?? 0, "the lifetime");
    const comment = options.comment === undefined
      ? undefined
      : textArg(options.comment, "the comment");
    const frame = isUint8Array(file)
      ? addFrame(file, lifetime, comment)
      : file.read((bytes) =>
        addFrame(bytesArg(bytes, "the key file"), lifetime, comment)
      );
    await this.#expectSuccess(frame, "adding the key");
  }

  /** Removes the key of `blob`. */
  async remove(blob: Uint8Array): Promise<void> {
    return await this.#expectSuccess(
      new FrameWriter(MSG.REMOVE_IDENTITY, 64)
        .string(bytesArg(blob, "the key blob")).frame(),
      "removing the key",
    );
  }

  /** Removes every key. */
  removeAll(): Promise<void> {
    return this.#expectSuccess(
      new FrameWriter(MSG.REMOVE_ALL_IDENTITIES, 8).frame(),
      "removing all keys",
    );
  }

  /** Locks the agent with `passphrase` (wiped once sent). */
  async lock(passphrase: Uint8Array): Promise<void> {
    const frame = new FrameWriter(MSG.LOCK, 64)
      .string(bytesArg(passphrase, "the passphrase")).frame();
    return await this.#expectSuccess(frame, "locking");
  }

  /** Unlocks the agent with `passphrase`. */
  async unlock(passphrase: Uint8Array): Promise<void> {
    const frame = new FrameWriter(MSG.UNLOCK, 64)
      .string(bytesArg(passphrase, "the passphrase")).frame();
    return await this.#expectSuccess(frame, "unlocking");
  }

  #extension(name: string, capacity = 64): FrameWriter {
    return new FrameWriter(MSG.EXTENSION, capacity + name.length).string(name);
  }

  /** Generates an Ed25519 key inside the agent; resolves to its blob. */
  async generateKey(comment: string, lifetime = 0): Promise<Uint8Array> {
    const reply = await this.request(
      this.#extension(EXT.GENERATE_KEY).string(textArg(comment, "the comment"))
        .uint32(uint32Arg(lifetime, "the lifetime")).frame(),
    );
    if (reply[0] !== MSG.SUCCESS) throw refused("generating a key");
    return handedOut(new FieldReader(reply, 1).string());
  }

  /** Generates a named secret of `size` bytes (16 to 64) inside the agent. */
  async generateSecret(
    name: string,
    size = 32,
    lifetime = 0,
  ): Promise<void> {
    return await this.#expectSuccess(
      this.#extension(EXT.GENERATE_SECRET).string(textArg(name, "the name"))
        .uint32(uint32Arg(size, "the size"))
        .uint32(uint32Arg(lifetime, "the lifetime")).frame(),
      "generating a secret",
    );
  }

  /** Hands the agent a named secret (16 to 64 bytes); wipes what it sent. */
  async addSecret(
    name: string,
    key: Uint8Array | ReadableSecret,
    lifetime = 0,
  ): Promise<void> {
    const life = uint32Arg(lifetime, "the lifetime");
    const w = this.#extension(EXT.ADD_SECRET, 128)
      .string(textArg(name, "the name"));
    if (isUint8Array(key)) w.string(key);
    else key.read((bytes) => w.string(bytesArg(bytes, "the secret")));
    return await this.#expectSuccess(
      w.uint32(life).frame(),
      "adding a secret",
    );
  }

  /** Removes the named secret. */
  async removeSecret(name: string): Promise<void> {
    return await this.#expectSuccess(
      this.#extension(EXT.REMOVE_SECRET).string(textArg(name, "the name"))
        .frame(),
      "removing a secret",
    );
  }

  /** The names and sizes of the secrets the agent holds. */
  async secrets(): Promise<{ name: string; size: number }[]> {
    const reply = await this.request(
      this.#extension(EXT.LIST_SECRETS).frame(),
    );
    if (reply[0] !== MSG.SUCCESS) throw refused("listing secrets");
    const r = new FieldReader(reply, 1);
    const out = [];
    for (let n = r.uint32(); n > 0; n--) {
      out.push({ name: r.text(), size: r.uint32() });
    }
    return out;
  }

  /** The HMAC of `data` under the agent's secret `name`. */
  hmac(
    name: string,
    data: Uint8Array,
    hash: "SHA-256" | "SHA-512" = "SHA-256",
  ): Promise<Uint8Array> {
    // Awaitable as it is: the caller's await then looks up no `then`.
    return awaitable(this.#hmac(name, data, hash));
  }

  async #hmac(
    name: string,
    data: Uint8Array,
    hash: "SHA-256" | "SHA-512",
  ): Promise<Uint8Array> {
    const bytes = bytesArg(data, "the data");
    const reply = await this.request(
      this.#extension(EXT.HMAC, lengthOf(bytes) + 64)
        .string(textArg(name, "the name")).string(textArg(hash, "the hash"))
        .string(bytes).frame(),
    );
    try {
      if (reply[0] !== MSG.SUCCESS) throw refused("computing the HMAC");
      return handedOut(new FieldReader(reply, 1).string());
    } finally {
      // The caller's copy is the one handed out.
      zero(reply);
    }
  }

  /**
   * XChaCha20-Poly1305 under the agent's 32-byte secret `name`: resolves
   * to nonce ‖ ciphertext ‖ tag, as `encrypt` of the crypto entry makes.
   */
  async encrypt(
    name: string,
    plaintext: Uint8Array,
    aad: Uint8Array = new Bytes(0),
  ): Promise<Uint8Array> {
    const plain = bytesArg(plaintext, "the plaintext");
    const extra = bytesArg(aad, "the additional data");
    if (lengthOf(plain) > MAX_SEALED_PLAINTEXT) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot encrypt ${
          lengthOf(plain)
        } bytes through the agent: its sealed answer must fit in one message, so at most ${MAX_SEALED_PLAINTEXT} bytes; split the data`,
      );
    }
    const reply = await this.request(
      this.#extension(EXT.ENCRYPT, lengthOf(plain) + lengthOf(extra) + 64)
        .string(textArg(name, "the name")).string(plain).string(extra)
        .frame(),
    );
    if (reply[0] !== MSG.SUCCESS) throw refused("encrypting");
    return handedOut(new FieldReader(reply, 1).string());
  }

  /**
   * Opens a message made by `encrypt` (or the crypto entry's). The
   * plaintext comes back as bytes on this process's heap: the client has
   * no guarded memory. The `./agent` entry's `decryptToSecret` puts it in
   * a SecretBuffer instead, where FFI is allowed.
   */
  decrypt(
    name: string,
    message: Uint8Array,
    aad: Uint8Array = new Bytes(0),
  ): Promise<Uint8Array> {
    // Awaitable as it is: the caller's await (decryptToSecret's among
    // them) then looks up no `then` to hand the plaintext to.
    return awaitable(this.#decrypt(name, message, aad));
  }

  async #decrypt(
    name: string,
    message: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array> {
    const sealed = bytesArg(message, "the message");
    const extra = bytesArg(aad, "the additional data");
    const reply = await this.request(
      this.#extension(EXT.DECRYPT, lengthOf(sealed) + lengthOf(extra) + 64)
        .string(textArg(name, "the name")).string(sealed).string(extra)
        .frame(),
    );
    try {
      if (reply[0] !== MSG.SUCCESS) throw refused("decrypting");
      return handedOut(new FieldReader(reply, 1).string());
    } finally {
      zero(reply);
    }
  }

  /** Closes the connection; pending requests are rejected. */
  close(): void {
    this.#fail(protocolError("connection was closed by the client"));
  }
}

// connectAgent resolves with a client: an impostor answered in its stead
// would be handed every key, secret and plaintext the caller sends.
withoutThen(AgentClient.prototype);
// Frozen, as every class of secmem that handles a secret: a `request` or
// `decrypt` replaced on the prototype after import would be handed every
// reply (decryptToSecret's plaintext among them) and every key sent.
freeze(AgentClient.prototype);
freeze(AgentClient);

/**
 * A copy of `view` for a promise to resolve with: a reply (a decrypted
 * plaintext, an HMAC) resolves `request`, then the caller's await, and
 * each looks `then` up on it; without an own `then`, a getter planted on
 * Object.prototype would be handed the bytes.
 */
function handedOut(view: Uint8Array): Uint8Array {
  const copy = copyOf(view);
  withoutThen(copy);
  return copy;
}

function refused(what: string): SecretMemoryError {
  return new SecretMemoryError(
    "ACCESS_DENIED",
    `The agent refused ${what} (SSH_AGENT_FAILURE)`,
  );
}

const BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END = "-----END OPENSSH PRIVATE KEY-----";

function indexOf(
  bytes: Uint8Array,
  size: number,
  text: string,
  from: number,
): number {
  outer: for (let i = from; i + text.length <= size; i++) {
    for (let j = 0; j < text.length; j++) {
      if (bytes[i + j] !== text.charCodeAt(j)) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * An ADD_IDENTITY (or ADD_ID_CONSTRAINED) frame from an unencrypted
 * `openssh-key-v1` Ed25519 file. The decoded file is wiped before return.
 */
function addFrame(
  file: Uint8Array,
  lifetime: number,
  comment: string | undefined,
): Uint8Array {
  const bad = (why: string) =>
    new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot read the OpenSSH private key: ${why}`,
    );
  // The engine's length, not an own `length` property the caller set.
  const size = lengthOf(file);
  const begin = indexOf(file, size, BEGIN, 0);
  const end = begin < 0 ? -1 : indexOf(file, size, END, begin);
  if (begin < 0 || end < 0) throw bad("no OpenSSH PEM armor");
  const start = begin + BEGIN.length;
  const raw = secretBytes(decodedMax(end - start));
  try {
    const length = decodeBase64Into(file, start, end, raw, 0, {
      padded: true,
      lines: true,
    });
    if (length < 0) throw bad("its base64 body is garbled");
    const r = new FieldReader(subarrayOf(raw, 0, length));
    const magic = "openssh-key-v1\0";
    for (let i = 0; i < magic.length; i++) {
      if (r.byte() !== magic.charCodeAt(i)) throw bad("not openssh-key-v1");
    }
    if (!bytesAre(r.string(), "none") || !bytesAre(r.string(), "none")) {
      throw bad("it is passphrase-protected; add it with ssh-add instead");
    }
    r.string();
    if (r.uint32() !== 1) throw bad("it holds more than one key");
    r.string();
    const p = new FieldReader(r.string());
    if (p.uint32() !== p.uint32()) throw bad("its check words differ");
    if (!bytesAre(p.string(), ED25519)) throw bad("it is not an Ed25519 key");
    const publicKey = p.string();
    const secret = p.string();
    const ownComment = p.text();
    if (lengthOf(publicKey) !== 32 || lengthOf(secret) !== 64) {
      throw bad("its key fields have the wrong sizes");
    }
    const w = new FrameWriter(
      lifetime > 0 ? MSG.ADD_ID_CONSTRAINED : MSG.ADD_IDENTITY,
      256,
    ).string(ED25519).string(publicKey).string(secret)
      .string(new TextEncoder().encode(comment ?? ownComment));
    if (lifetime > 0) w.byte(CONSTRAIN.LIFETIME).uint32(lifetime);
    return w.frame();
  } catch (error) {
    // A field cut short is the file's fault here, not a peer's.
    if (error instanceof SecretMemoryError && error.code === "INPUT_ERROR") {
      throw bad("it is truncated or garbled");
    }
    throw error;
  } finally {
    zero(raw);
  }
}

/**
 * Connects to the agent at `path` (default: the `SSH_AUTH_SOCK`
 * environment variable). Pure JavaScript, no FFI.
 *
 * @param path The agent's socket.
 * @returns A connected client.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` without a path and without
 * `SSH_AUTH_SOCK`; `INPUT_ERROR` when the connection fails.
 *
 * @example List the keys of the running agent
 * ```ts ignore
 * import { connectAgent } from "@secmem/secmem/agent/client";
 *
 * const agent = await connectAgent();
 * for (const key of await agent.list()) console.log(key.publicKey);
 * agent.close();
 * ```
 */
export async function connectAgent(path?: string): Promise<AgentClient> {
  const where = path ?? environment("SSH_AUTH_SOCK");
  if (typeof where !== "string" || where === "") {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot connect to an agent: no path given and SSH_AUTH_SOCK is not set",
    );
  }
  const socket = net().createConnection(where);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (error) =>
      reject(
        new SecretMemoryError(
          "INPUT_ERROR",
          `Cannot connect to the agent at ${where}: ${error.message}`,
          { cause: error },
        ),
      ));
  });
  return new AgentClient(socket);
}

function environment(name: string): string | undefined {
  const host = globalThis as {
    Deno?: { env: { get(name: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  if (host.Deno !== undefined) return host.Deno.env.get(name);
  return host.process?.env[name];
}
