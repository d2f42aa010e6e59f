/**
 * Evidence for what another process can read: a process allowed to ptrace
 * ours (here its parent, the test) reads an anonymous SecretBuffer's pages
 * through /proc/PID/mem whatever their protection, and gdb (PTRACE_PEEKDATA)
 * reads them too; a memfd_secret buffer's pages cannot be read either way.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync } from "node:fs";
import assert from "node:assert/strict";
import { capabilities } from "../mod.ts";
import { childScript } from "./_child.ts";
import { startChild, which } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const support = linuxOnly ? undefined : capabilities().secretMemory;
const needsSecretmem: string | false = linuxOnly ||
  (support?.available ? false : `memfd_secret unavailable: ${support?.detail}`);

interface Target {
  pid: number;
  secret: string;
  anonymous: string;
}

/** Reads 32 bytes of another process at `address`: the bytes, or the errno code. */
function readRemote(pid: number, address: string): Uint8Array | string {
  const fd = openSync(`/proc/${pid}/mem`, "r");
  try {
    const bytes = new Uint8Array(32);
    readSync(fd, bytes, 0, 32, Number(BigInt(address)));
    return bytes;
  } catch (error) {
    return String((error as { code?: string }).code);
  } finally {
    closeSync(fd);
  }
}

async function withTarget(body: (target: Target) => void): Promise<void> {
  const child = startChild(childScript("claims_ptrace_target.ts"));
  try {
    body(JSON.parse(await child.first) as Target);
  } finally {
    child.stop();
  }
}

test(
  "another process reads anonymous pages at rest through /proc/PID/mem, but not secretmem pages (EIO)",
  async () => {
    await withTarget((target) => {
      const anonymous = readRemote(target.pid, target.anonymous);
      assert(anonymous instanceof Uint8Array, `anonymous: ${anonymous}`);
      assert(anonymous.every((b) => b === 0x5a), "control: marker read");
      assert.equal(readRemote(target.pid, target.secret), "EIO");
    });
  },
  { skip: needsSecretmem },
);

test(
  "gdb attached by ptrace reads anonymous pages, not secretmem pages",
  async () => {
    await withTarget((target) => {
      const gdb = spawnSync("gdb", [
        "-p",
        String(target.pid),
        "-batch",
        "-ex",
        `x/4xb ${target.anonymous}`,
        "-ex",
        `x/4xb ${target.secret}`,
      ], { encoding: "utf8", timeout: 120_000 });
      const out = `${gdb.stdout}\n${gdb.stderr}`;
      const anonymous = `0x${BigInt(target.anonymous).toString(16)}`;
      const secret = `0x${BigInt(target.secret).toString(16)}`;
      assert.match(
        out,
        new RegExp(`${anonymous}:\\s+0x5a\\s+0x5a\\s+0x5a\\s+0x5a`),
        `control: gdb read the anonymous pages\n${out}`,
      );
      assert.match(
        out,
        new RegExp(`Cannot access memory at address ${secret}`),
      );
    });
  },
  {
    skip: needsSecretmem || (which("gdb") ? false : "gdb is not installed"),
  },
);
