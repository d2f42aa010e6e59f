/**
 * Child for the fork proof. Opens a SecretBuffer's data page for reading
 * and fills a control page mapped without MADV_WIPEONFORK, then forks. The
 * forked process does nothing but write(2) both pages to a pipe and exit;
 * this process reads what it wrote and prints one JSON line.
 *
 * Two ways to fork:
 * - `fork()` through FFI, the forked copy returning into JavaScript. Deno
 *   and Bun mark their heap or JIT code MADV_DONTFORK (VmFlags `dc`), so
 *   the copy faults as soon as it runs JavaScript; it is tried, and how it
 *   ended is reported.
 * - `clone(fn, stack, SIGCHLD, arg)` (what fork() does, a new process with
 *   copied memory) where `fn` is a few bytes of machine code made here:
 *   write(fd, secret, page); write(fd, control, page); exit_group(0). No
 *   JavaScript runs in the copy. x86_64 and aarch64; elsewhere skipped.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";
import { mappingAround } from "../../src/doctor/_procfs.ts";
import { emit } from "../_forensics.ts";
import { TEST_LINUX, testLibc } from "../_test_libc.ts";

const libc = testLibc();
const memory = native();
const page = memory.pageSize;

// The secret: a whole data page of non-zero bytes, held readable over fork.
const secret = SecretBuffer.alloc(page - 64, { placement: "start" });
secret.write((bytes) => {
  for (let i = 0; i < bytes.length; i++) bytes[i] = 1 + (i % 251);
});
secret.protect("readonly");
const secretPage = secret.address; // placement "start": page-aligned
const flags = mappingAround(secretPage).at?.flags ?? [];

// The control: a plain committed page, not kept out of dumps and forks.
const controlBase = memory.reserve(3 * page);
const controlPage = controlBase + BigInt(page);
if (memory.commit(controlPage, page, false) !== "ok") {
  throw new Error("cannot commit the control page");
}
new Uint8Array(memory.view(controlPage, page)).fill(0xa5);

interface Outcome {
  how: string;
  /** The forked process's wait status, or a word when it hung. */
  status: number | string;
  bytesReceived: number;
  secretNonZero: number;
  controlMatching: number;
}

/** Forks with `start`, collects the pipe's bytes and the wait status. */
function forkAndRead(
  how: string,
  start: (writeEnd: number) => number,
): Outcome {
  const fds = new Int32Array(2);
  if (libc.pipe(new Uint8Array(fds.buffer)) !== 0) {
    throw new Error("pipe failed");
  }
  const [readEnd, writeEnd] = fds;
  const status = new Int32Array(1);
  const statusBytes = new Uint8Array(status.buffer);
  const pid = start(writeEnd);
  if (pid < 0) throw new Error(`${how} failed`);
  libc.close(writeEnd);
  // Wait at most 20 s: a copy that cannot run may hang as well as crash.
  let waited = 0;
  let exited = libc.waitpid(pid, statusBytes, TEST_LINUX.WNOHANG);
  while (exited === 0 && waited < 20_000) {
    libc.usleep(10_000);
    waited += 10;
    exited = libc.waitpid(pid, statusBytes, TEST_LINUX.WNOHANG);
  }
  if (exited === 0) {
    libc.kill(pid, TEST_LINUX.SIGKILL);
    libc.waitpid(pid, statusBytes, 0);
  }
  const received = new Uint8Array(2 * page);
  let got = 0;
  while (got < received.length) {
    const count = libc.read(
      readEnd,
      received.subarray(got),
      received.length - got,
    );
    if (count <= 0) break;
    got += count;
  }
  libc.close(readEnd);
  return {
    how,
    status: exited === 0 ? "hung, killed" : status[0],
    bytesReceived: got,
    secretNonZero: received.subarray(0, page).filter((b) => b !== 0).length,
    controlMatching: received.subarray(page).filter((b) => b === 0xa5).length,
  };
}

const outcomes: Outcome[] = [];

// 1. fork() returning into JavaScript. Everything is computed first; the
// copy only makes FFI calls with ready values, if it can run at all.
outcomes.push(forkAndRead("fork() into JavaScript", (writeEnd) => {
  const length = page;
  const pid = libc.fork();
  if (pid === 0) {
    const a = libc.write(writeEnd, secretPage, length);
    const b = libc.write(writeEnd, controlPage, length);
    libc._exit(a === length && b === length ? 0 : 3);
  }
  return pid;
}));

// 2. clone(SIGCHLD) into machine code: no JavaScript in the copy.
const arch = memory.arch;
const machineCode = arch === "x64"
  ? writeThenExit
  : arch === "arm64"
  ? writeThenExitArm64
  : undefined;
if (machineCode !== undefined) {
  const codePage = memory.reserve(page);
  const stackBase = memory.reserve(18 * page);
  memory.commit(codePage, page, false);
  memory.commit(stackBase + BigInt(page), 16 * page, false);
  const stackTop = stackBase + BigInt(17 * page);
  outcomes.push(forkAndRead("clone(SIGCHLD) into machine code", (writeEnd) => {
    const code = machineCode(writeEnd, [[secretPage, page], [
      controlPage,
      page,
    ]]);
    new Uint8Array(memory.view(codePage, code.length)).set(code);
    const prot = TEST_LINUX.PROT_READ | TEST_LINUX.PROT_EXEC;
    if (libc.mprotect(codePage, page, prot) !== 0) {
      throw new Error("cannot make the code page executable");
    }
    return libc.clone(codePage, stackTop, TEST_LINUX.SIGCHLD, 0n);
  }));
  memory.release(codePage, page);
  memory.release(stackBase, 18 * page);
}

emit({
  arch,
  flags,
  secretPage: `0x${secretPage.toString(16)}`,
  page,
  outcomes,
  parentStillReads: secret.read((bytes) =>
    bytes[0] === 1 && bytes[100] === 101
  ),
});
secret.destroy();
memory.release(controlBase, 3 * page);

/**
 * x86_64 code for `write(fd, address, length)` per range, then
 * `exit_group(0)`, with every value as an immediate.
 */
function writeThenExit(fd: number, ranges: [bigint, number][]): Uint8Array {
  const bytes: number[] = [];
  const imm32 = (value: number) => {
    for (let i = 0; i < 4; i++) bytes.push((value >>> (8 * i)) & 0xff);
  };
  const imm64 = (value: bigint) => {
    for (let i = 0n; i < 8n; i++) {
      bytes.push(Number((value >> (8n * i)) & 0xffn));
    }
  };
  for (const [address, length] of ranges) {
    bytes.push(0xbf); // mov edi, fd
    imm32(fd);
    bytes.push(0x48, 0xbe); // mov rsi, address
    imm64(address);
    bytes.push(0xba); // mov edx, length
    imm32(length);
    bytes.push(0xb8); // mov eax, 1 (write)
    imm32(1);
    bytes.push(0x0f, 0x05); // syscall
  }
  bytes.push(0x31, 0xff); // xor edi, edi
  bytes.push(0xb8); // mov eax, 231 (exit_group)
  imm32(231);
  bytes.push(0x0f, 0x05); // syscall
  return new Uint8Array(bytes);
}

/**
 * aarch64 code for the same steps. Each value is built in its register by
 * one MOVZ and three MOVKs (16 bits each), whatever its size, so every
 * address and length fits without a literal pool; x8 holds the syscall
 * number (asm-generic: write 64, exit_group 94) and `svc #0` enters the
 * kernel. No cache maintenance is needed: mprotect making the page
 * executable has arm64 Linux clean it to the point of unification.
 */
function writeThenExitArm64(
  fd: number,
  ranges: [bigint, number][],
): Uint8Array {
  const words: number[] = [];
  const load = (register: number, value: bigint) => {
    for (let half = 0; half < 4; half++) {
      const imm16 = Number((value >> BigInt(16 * half)) & 0xffffn);
      // MOVZ Xd, #imm16 (half 0) clears the rest; MOVK keeps other halves.
      const opcode = half === 0 ? 0xd2800000 : 0xf2800000;
      words.push((opcode | (half << 21) | (imm16 << 5) | register) >>> 0);
    }
  };
  const svc = () => words.push(0xd4000001); // svc #0
  for (const [address, length] of ranges) {
    load(0, BigInt(fd)); // x0: fd
    load(1, address); // x1: buffer
    load(2, BigInt(length)); // x2: count
    load(8, 64n); // x8: write
    svc();
  }
  load(0, 0n); // x0: status 0
  load(8, 94n); // x8: exit_group
  svc();
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint32(4 * i, word, true));
  return bytes;
}
