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
  INPUT_OPTION_KEYS,
  type InputOptions,
} from "./_accumulator.ts";
import { native } from "../core/_native.ts";
import { afterDelay, awaitable } from "../core/_intrinsics.ts";
import { beforeExit } from "../core/_registry.ts";
import { checkBoolean, checkOptions, describe } from "../core/_validate.ts";
import { fromText } from "./encoding.ts";
import { wouldBlock, writeToSync } from "./fd.ts";
import { SecretMemoryError } from "../core/errors.ts";
import type { GuardedSecret, SecretMaker } from "../core/_secret.ts";

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

// Taken at load: a `Function.prototype.call` replaced later must not
// decide whether stdin is a terminal or skip turning its echo off (the
// passphrase would show as it is typed).
const apply = Reflect.apply;

const STDIN = 0;
const STDERR = 2;
const EIO = 5;
const KEY = {
  CTRL_C: 0x03,
  CTRL_D: 0x04,
  BACKSPACE: 0x08,
  LF: 0x0a,
  CR: 0x0d,
  CTRL_U: 0x15,
  DELETE: 0x7f,
} as const;

/** See `promptSecret` (src/prompt.ts): the prompt, for any maker. */
export async function readPrompt<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  prompt: string,
  options?: PromptOptions,
): Promise<S> {
  if (typeof prompt !== "string") {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot show ${describe(prompt)} as a prompt: expected a string`,
    );
  }
  const { allowPipe = false, maxSize = PROMPT_MAX_SIZE, ...rest } =
    checkOptions(options, ["allowPipe", ...INPUT_OPTION_KEYS]);
  checkBoolean(allowPipe, "allowPipe");
  const checked = checkInputOptions({ ...rest, maxSize });
  const memory = native();
  const { isTerminal, quietTerminal } = memory;
  const terminal = isTerminal === undefined
    ? false
    : apply(isTerminal, memory, [STDIN]) as boolean;
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
    say(maker, prompt);
    return await readKeys(new Accumulator(maker, "the input", checked), false);
  }
  // Echo off before the prompt shows, so that nothing typed after it
  // appears on the screen.
  const restore = apply(quietTerminal!, memory, [STDIN]) as () => void;
  // SIGTERM, SIGHUP or SIGINT under catchInterrupt, or an exit from
  // elsewhere while the prompt waits, must not leave the terminal raw.
  const forget = beforeExit(restore);
  try {
    say(maker, prompt);
    return await readKeys(
      new Accumulator(maker, "the passphrase", checked),
      true,
    );
  } finally {
    forget();
    restore();
    // Enter was not echoed: end the prompt's line ourselves.
    say(maker, "\n");
  }
}

/** Writes text to stderr with write(2), after the runtime's own output. */
function say<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: string,
): void {
  if (text.length === 0) return;
  const bytes = fromText(maker, text, { lock: "best-effort" });
  try {
    writeToSync(bytes, STDERR);
  } finally {
    bytes.destroy();
  }
}

/**
 * The next byte, or -1 at the end of input. Never blocks the thread: a
 * non-blocking pipe answers EAGAIN, and a quiet terminal answers 0 at once
 * when no key is waiting (`polling`); both wait with a timer, so signal
 * handlers (catchInterrupt) run and can restore the terminal. A terminal
 * that hung up answers EIO.
 */
async function nextByte(
  collected: Accumulator<GuardedSecret>,
  polling: boolean,
): Promise<number> {
  for (;;) {
    try {
      const byte = collected.readByte(STDIN);
      if (byte !== -1 || !polling) return byte;
    } catch (error) {
      const hungUp = error instanceof SecretMemoryError && error.errno === EIO;
      if (polling && hungUp) return -1;
      if (!wouldBlock(error)) throw error;
    }
    await new Promise<void>((wake) => afterDelay(wake, 10));
  }
}

/**
 * Keys from a terminal in non-canonical mode, or one line from a pipe or
 * file (bytes up to a newline or the end, with no editing keys).
 */
async function readKeys<S extends GuardedSecret>(
  collected: Accumulator<S>,
  terminal: boolean,
): Promise<S> {
  try {
    for (;;) {
      // Awaitable as it is: Promise.prototype's constructor and then,
      // replaced after import, were handed each byte typed.
      const byte = await awaitable(nextByte(collected, terminal));
      if (byte === -1 && collected.length === 0) {
        // The terminal hung up, or the pipe ended.
        throw cancelled("end of input");
      }
      if (byte === -1 || byte === KEY.LF || (terminal && byte === KEY.CR)) {
        collected.forgetByte();
        // A CRLF line ending from a pipe: the CR is not part of the secret.
        if (
          !terminal && collected.length > 0 && collected.lastByte() === KEY.CR
        ) {
          collected.dropLast();
        }
        return collected.finish();
      }
      // A pipe has no editing keys: every other byte is kept.
      switch (terminal ? byte : 0) {
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
        default:
          collected.advance(1);
      }
    }
  } finally {
    collected.discard();
  }
}

/** Removes the last UTF-8 character: continuation bytes, then the lead. */
function dropCharacter(collected: Accumulator<GuardedSecret>): void {
  while (collected.length > 0) {
    const byte = collected.lastByte();
    collected.dropLast();
    if ((byte & 0xc0) !== 0x80) return;
  }
}

function cancelled(how: string): SecretMemoryError {
  return new SecretMemoryError(
    "CANCELLED",
    `Cannot read the secret: the prompt was cancelled (${how}); what was typed has been wiped`,
  );
}
