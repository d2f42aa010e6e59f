/**
 * A passphrase prompt that reads keystrokes with read(2), one byte at a
 * time, straight into guarded pages.
 *
 * The terminal is put in non-canonical mode with echo and the signal keys
 * off. Non-canonical, because in canonical mode the kernel's line editor
 * keeps the whole line until Enter and the process could only read it in
 * one piece; here each byte is taken as it is typed and the editing
 * (backspace, Ctrl-U) is done in the guarded buffer. Signal keys off, so
 * that Ctrl-C arrives as a byte: the prompt then wipes, restores the
 * terminal and throws, instead of the process dying with echo still off.
 * (The kernel's tty input buffer still sees every byte typed, in either
 * mode; no user-space program can wipe that.)
 *
 * @module
 */

import {
  Accumulator,
  checkInputOptions,
  type InputOptions,
} from "./_accumulator.ts";
import { native } from "../core/_native.ts";
import { checkBoolean, checkOptions, describe } from "../core/_validate.ts";
import { fromText } from "./encoding.ts";
import { writeToSync } from "./fd.ts";
import { SecretMemoryError } from "../core/errors.ts";
import type { SecretBuffer } from "../secret_buffer.ts";

/** Options for `promptSecret`. */
export interface PromptOptions extends InputOptions {
  /**
   * Read from stdin even when it is not a terminal (a pipe or a file):
   * one line, up to a newline or the end of input, with no editing keys.
   * Default `false`: refuse with `NOT_A_TERMINAL`.
   */
  allowPipe?: boolean;
}

/** The default `maxSize` of a prompt: 1 KiB is a very long passphrase. */
export const PROMPT_MAX_SIZE = 1024;

const STDIN = 0;
const STDERR = 2;
const EAGAIN = 11;
const KEY = {
  CTRL_C: 0x03,
  CTRL_D: 0x04,
  BACKSPACE: 0x08,
  LF: 0x0a,
  CR: 0x0d,
  CTRL_U: 0x15,
  DELETE: 0x7f,
} as const;

/**
 * Asks for a passphrase on the terminal, with echo off, and returns the
 * bytes typed (UTF-8, without the newline) in a `SecretBuffer`.
 *
 * The prompt is written to stderr; keys are read from stdin. Backspace
 * (DEL or ^H) removes the last UTF-8 character, Ctrl-U the whole line,
 * Enter ends the input. Ctrl-C, and Ctrl-D with nothing typed, cancel. The terminal
 * settings are restored on every path.
 *
 * @param prompt The text shown, for example `"Passphrase: "`.
 * @param options `allowPipe`, `maxSize` (default 1024 bytes), and the
 * lock policy and placement of the result.
 * @returns The passphrase, at rest.
 * @throws {SecretMemoryError} `NOT_A_TERMINAL` when stdin is not a
 * terminal and `allowPipe` is not set (`UNSUPPORTED_PLATFORM` where the
 * OS layer has no terminal control yet); `CANCELLED` on Ctrl-C, or Ctrl-D or
 * end of input before any byte; `TOO_LARGE` past `maxSize`; `OS_ERROR`.
 *
 * @example Ask for a passphrase (run it in a terminal)
 * ```ts ignore
 * import { promptSecret } from "@secmem/secmem";
 *
 * using passphrase = await promptSecret("Passphrase: ");
 * console.log(`read ${passphrase.size} bytes`);
 * ```
 */
export async function promptSecret(
  prompt: string,
  options?: PromptOptions,
): Promise<SecretBuffer> {
  if (typeof prompt !== "string") {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot show ${describe(prompt)} as a prompt: expected a string`,
    );
  }
  const { allowPipe = false, maxSize = PROMPT_MAX_SIZE, ...rest } =
    checkOptions(options);
  checkBoolean(allowPipe, "allowPipe");
  const checked = checkInputOptions({ ...rest, maxSize });
  const memory = native();
  const { isTerminal, quietTerminal } = memory;
  const terminal = isTerminal?.call(memory, STDIN) ?? false;
  if (!terminal && !allowPipe) {
    if (isTerminal === undefined) {
      throw new SecretMemoryError(
        "UNSUPPORTED_PLATFORM",
        `Cannot prompt for a secret on ${memory.os}: terminal control is not implemented there yet; pass { allowPipe: true } to read one line from stdin`,
      );
    }
    throw new SecretMemoryError(
      "NOT_A_TERMINAL",
      "Cannot prompt for a secret: stdin is not a terminal; run in a terminal, or pass { allowPipe: true } to read one line from the pipe",
    );
  }
  if (!terminal) {
    say(prompt);
    return await readLine(new Accumulator("the input", checked));
  }
  // Echo off before the prompt shows, so that nothing typed after it
  // appears on the screen.
  const restore = quietTerminal!.call(memory, STDIN);
  try {
    say(prompt);
    return await readKeys(new Accumulator("the passphrase", checked));
  } finally {
    restore();
    // Enter was not echoed: end the prompt's line ourselves.
    say("\n");
  }
}

/** Writes text to stderr with write(2), after the runtime's own output. */
function say(text: string): void {
  if (text.length === 0) return;
  const bytes = fromText(text, { lock: "best-effort" });
  try {
    writeToSync(bytes, STDERR);
  } finally {
    bytes.destroy();
  }
}

/** One byte into the next slot, waiting while stdin is non-blocking. */
async function nextByte(collected: Accumulator): Promise<number> {
  for (;;) {
    try {
      return collected.readByte(STDIN);
    } catch (error) {
      if (!(error instanceof SecretMemoryError) || error.errno !== EAGAIN) {
        throw error;
      }
      await new Promise((wake) => setTimeout(wake, 10));
    }
  }
}

/** Keys from a terminal in non-canonical mode. */
async function readKeys(collected: Accumulator): Promise<SecretBuffer> {
  try {
    for (;;) {
      const byte = await nextByte(collected);
      switch (byte) {
        case KEY.LF:
        case KEY.CR:
          collected.forgetByte();
          return collected.finish();
        case KEY.DELETE:
        case KEY.BACKSPACE:
          collected.forgetByte();
          dropCharacter(collected);
          break;
        case KEY.CTRL_U:
          collected.forgetByte();
          while (collected.dropLast());
          break;
        case KEY.CTRL_D:
          collected.forgetByte();
          if (collected.length === 0) throw cancelled("Ctrl-D");
          break;
        case KEY.CTRL_C:
          collected.forgetByte();
          throw cancelled("Ctrl-C");
        case -1:
          // The terminal hung up.
          if (collected.length === 0) throw cancelled("end of input");
          return collected.finish();
        default:
          collected.advance(1);
      }
    }
  } finally {
    collected.discard();
  }
}

/** Removes the last UTF-8 character: continuation bytes, then the lead. */
function dropCharacter(collected: Accumulator): void {
  while (collected.length > 0) {
    const byte = collected.lastByte();
    collected.dropLast();
    if ((byte & 0xc0) !== 0x80) return;
  }
}

/** One line from a pipe or file: bytes up to a newline or the end. */
async function readLine(collected: Accumulator): Promise<SecretBuffer> {
  try {
    for (;;) {
      const byte = await nextByte(collected);
      if (byte === -1 && collected.length === 0) {
        throw cancelled("end of input");
      }
      if (byte === KEY.LF || byte === -1) {
        collected.forgetByte();
        // A CRLF line ending: the CR is not part of the secret.
        if (collected.length > 0 && collected.lastByte() === KEY.CR) {
          collected.dropLast();
        }
        return collected.finish();
      }
      collected.advance(1);
    }
  } finally {
    collected.discard();
  }
}

function cancelled(how: string): SecretMemoryError {
  return new SecretMemoryError(
    "CANCELLED",
    `Cannot read the secret: the prompt was cancelled (${how}); what was typed has been wiped`,
  );
}
