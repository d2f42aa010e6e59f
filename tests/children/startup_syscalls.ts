/**
 * Child for tests/startup_syscalls_test.ts, run under `strace -f`: imports
 * the library, then makes its first secret and a second one, each between
 * two marks the trace can find (a look for a file that is not there), so
 * that the calls the thread made for each are counted apart from start-up
 * and from the runtime's other threads.
 *
 * Usage: startup_syscalls.ts
 *
 * @module
 */

import { existsSync } from "node:fs";
import { SecretBuffer } from "../../mod.ts";

existsSync("/secmem-mark-first");
const first = SecretBuffer.random(32);
existsSync("/secmem-mark-second");
const second = SecretBuffer.random(32);
existsSync("/secmem-mark-end");
first.destroy();
second.destroy();
console.log("done");
