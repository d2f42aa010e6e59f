// Reproduction for docs/node-ffi-fast-call-crash.md: raw node:ffi, no
// library. Maps three pages, makes the calls a guarded allocation makes
// (mprotect, madvise, mlock, getrandom), then calls explicit_bzero with a
// length of 0 (it writes nothing) 2,200 times in a tight loop. "ok" and exit
// status 0 mean the process survived; a V8 fatal error (exit 133) or SIGSEGV
// (exit 139 from a shell) is the bug. It hits a few processes in a hundred.
//
//   node --no-warnings=ExperimentalWarning node-ffi-fast-call-crash.mjs [padded]
//
// `padded` declares every function with int32 parameters up to nine
// arguments and passes 0 for each: more integer arguments than V8's fast API
// path takes, so node:ffi calls through its regular path. The C functions
// ignore the extra arguments (the caller places and removes them).
import { dlopen } from "node:ffi";

const padded = process.argv[2] === "padded";
const upTo9 = (args) =>
  padded ? [...args, ...Array(9 - args.length).fill("int32")] : args;
const { functions: f } = dlopen("libc.so.6", {
  mmap: {
    arguments: upTo9(["pointer", "uint64", "int32", "int32", "int32", "int64"]),
    return: "pointer",
  },
  mprotect: {
    arguments: upTo9(["pointer", "uint64", "int32"]),
    return: "int32",
  },
  madvise: {
    arguments: upTo9(["pointer", "uint64", "int32"]),
    return: "int32",
  },
  mlock: { arguments: upTo9(["pointer", "uint64"]), return: "int32" },
  getrandom: {
    arguments: upTo9(["pointer", "uint64", "uint32"]),
    return: "int64",
  },
  explicit_bzero: { arguments: upTo9(["pointer", "uint64"]), return: "void" },
});

const PROT_READ_WRITE = 3, MAP_PRIVATE_ANONYMOUS = 0x22;
const MADV_DONTDUMP = 16, MADV_WIPEONFORK = 18;
let data;
let wipe;
if (!padded) {
  const base = f.mmap(0n, 12288n, 0, MAP_PRIVATE_ANONYMOUS, -1, 0n);
  data = base + 4096n;
  f.mprotect(data, 4096n, PROT_READ_WRITE);
  f.madvise(data, 4096n, MADV_DONTDUMP);
  f.madvise(data, 4096n, MADV_WIPEONFORK);
  f.mlock(data, 4096n);
  f.getrandom(data, 16n, 0);
  wipe = (address, length) => f.explicit_bzero(address, BigInt(length));
} else {
  const base = f.mmap(0n, 12288n, 0, MAP_PRIVATE_ANONYMOUS, -1, 0n, 0, 0, 0);
  data = base + 4096n;
  f.mprotect(data, 4096n, PROT_READ_WRITE, 0, 0, 0, 0, 0, 0);
  f.madvise(data, 4096n, MADV_DONTDUMP, 0, 0, 0, 0, 0, 0);
  f.madvise(data, 4096n, MADV_WIPEONFORK, 0, 0, 0, 0, 0, 0);
  f.mlock(data, 4096n, 0, 0, 0, 0, 0, 0, 0);
  f.getrandom(data, 16n, 0, 0, 0, 0, 0, 0, 0);
  wipe = (address, length) =>
    f.explicit_bzero(address, BigInt(length), 0, 0, 0, 0, 0, 0, 0);
}

const run = (n) => {
  for (let i = 0; i < n; i++) wipe(data + 4064n, 0);
};
run(200);
run(2000);
console.log("ok");
