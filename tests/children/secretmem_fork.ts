/**
 * Child for the secretmem fork test: holds one secret-memory buffer and one
 * anonymous buffer, forks, and reads the forked child's /proc/PID/maps.
 *
 * A forked copy of a multithreaded runtime cannot be trusted to run any
 * JavaScript (Deno's and Bun's crash when fork returns into it), so the
 * forked child never returns from fork: libc's `pause` is registered as a
 * fork handler, which glibc runs in the child before fork returns. The
 * parent reads the child's maps, then kills it. Prints one JSON line.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { LINUX_LIBC_CANDIDATES } from "../../ffi/linux.ts";
import { loadAdapter } from "../../ffi/load.ts";
import { parseMaps, readProcText } from "../../src/doctor/_procfs.ts";

const libc = loadAdapter().open(LINUX_LIBC_CANDIDATES, {
  fork: { parameters: [], result: "i32" },
  // void *dlsym(void *handle, const char *symbol)
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  // int __register_atfork(prepare, parent, child, void *dso_handle): glibc
  // exports pthread_atfork only as a static stub, so bind what it calls.
  __register_atfork: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "i32",
    optional: true,
  },
  // int pthread_atfork(prepare, parent, child): musl
  pthread_atfork: {
    parameters: ["pointer", "pointer", "pointer"],
    result: "i32",
    optional: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "pointer", "i32"], result: "i32" },
});

const RTLD_DEFAULT = 0n;
const SIGKILL = 9;
const pause = libc.dlsym(RTLD_DEFAULT, new TextEncoder().encode("pause\0"));
if (pause === 0n) throw new Error("no pause in libc");
const registered = libc.__register_atfork?.(0n, 0n, pause, 0n) ??
  libc.pthread_atfork?.(0n, 0n, pause);
if (registered !== 0) {
  throw new Error("__register_atfork failed");
}

const secret = SecretBuffer.random(32, { backend: "secretmem" });
const plain = SecretBuffer.random(32);

const holds = (text: string, address: bigint) =>
  parseMaps(text).some((e) => e.start <= address && address < e.end);

const pid = libc.fork();
if (pid <= 0) throw new Error("fork failed");
let child = "";
try {
  child = readProcText(`/proc/${pid}/maps`);
} finally {
  libc.kill(pid, SIGKILL);
  libc.waitpid(pid, 0n, 0);
}
const own = readProcText("/proc/self/maps");
console.log(JSON.stringify({
  parentHasSecret: holds(own, secret.address),
  childHasSecret: holds(child, secret.address),
  childHasAnonymous: holds(child, plain.address),
  childMappings: parseMaps(child).length,
}));
secret.destroy();
plain.destroy();
