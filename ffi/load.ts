/**
 * Picks the adapter for the running runtime and the memory layer for the
 * running OS. Runtimes are told apart by their globals, Bun before Node
 * (Bun also defines `process.versions.node`), and Deno first.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type { NativeMemory } from "./contract.ts";
import { createBunAdapter } from "./bun.ts";
import { createDenoAdapter } from "./deno.ts";
import { createNodeAdapter } from "./node.ts";
import { createDarwinMemory } from "./darwin_memory.ts";
import { createLinuxMemory } from "./linux_memory.ts";
import { createWindowsMemory } from "./windows_memory.ts";
import type { NodeLikeProcess } from "./_process.ts";
import type { RuntimeAdapter } from "./types.ts";

interface Host {
  // deno-lint-ignore no-explicit-any
  Deno?: any;
  Bun?: { version: string };
  process?: NodeLikeProcess & { platform: string; arch: string };
}

const host = globalThis as unknown as Host;

/** The running OS and CPU, in Node's vocabulary (`linux`, `x64`, ...). */
export function platform(): { os: string; arch: string } {
  if (host.Deno !== undefined) {
    const { os, arch } = host.Deno.build as { os: string; arch: string };
    return {
      os,
      arch: arch === "x86_64" ? "x64" : arch === "aarch64" ? "arm64" : arch,
    };
  }
  return {
    os: host.process?.platform ?? "unknown",
    arch: host.process?.arch ?? "unknown",
  };
}

/**
 * The adapter for the running runtime, for binding tables beyond libc's
 * memory calls (test-only symbols, other libraries).
 */
export function loadAdapter(): RuntimeAdapter {
  if (host.Deno !== undefined) return createDenoAdapter(host.Deno);
  if (host.Bun !== undefined && host.process !== undefined) {
    return createBunAdapter(host.process, host.Bun.version);
  }
  if (host.process?.versions?.node !== undefined) {
    return createNodeAdapter(host.process);
  }
  throw new SecretMemoryError(
    "UNSUPPORTED_PLATFORM",
    "Cannot find a supported runtime: secmem runs on Deno 2, Bun 1 and Node 26 or newer",
  );
}

const setPrototypeOf = Object.setPrototypeOf;

/**
 * Opens the native layer for this runtime and OS, as an object with no
 * prototype: a method this OS lacks (`dumpable` off Linux, the crash
 * dialog off Windows) must read as absent, never as a function someone
 * planted on Object.prototype.
 */
export function loadNative(): NativeMemory {
  return setPrototypeOf(openNative(), null);
}

function openNative(): NativeMemory {
  const { os, arch } = platform();
  if (os === "linux") return createLinuxMemory(loadAdapter(), arch);
  // Deno says "windows", Bun and Node say "win32".
  if (os === "windows" || os === "win32") {
    return createWindowsMemory(loadAdapter(), arch);
  }
  // Not yet run on a Mac: it proves itself at the first allocation and
  // refuses to allocate when that fails (see darwin_memory.ts).
  if (os === "darwin") return createDarwinMemory(loadAdapter(), arch);
  throw new SecretMemoryError(
    "UNSUPPORTED_PLATFORM",
    `Cannot protect memory on ${os}: this version of secmem supports Linux, Windows and (untested) macOS`,
  );
}
