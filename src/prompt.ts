/**
 * `promptSecret`: the input layer's passphrase prompt, bound to
 * `SecretBuffer` (see `input/prompt.ts` for how it reads the keys).
 *
 * @module
 */

import { type PromptOptions, readPrompt } from "./input/prompt.ts";
import { maker, type SecretBuffer } from "./secret_buffer.ts";

export { PROMPT_MAX_SIZE, type PromptOptions } from "./input/prompt.ts";

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
  return await readPrompt(maker, prompt, options);
}
