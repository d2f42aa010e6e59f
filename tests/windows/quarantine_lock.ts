/**
 * Child for the Windows quarantine test: finds its own process on the
 * Linux side of Wine (by the token in its command line), and prints the
 * kernel's locked-bytes figure (VmLck) before, while and after a locked
 * buffer whose view escaped is destroyed. Wine locks with mlock(2), so
 * VmLck is the count of pages VirtualLock holds. Files opened through
 * Wine are opened by the wineserver, so /proc/self is not this process.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { SecretBuffer } from "../../mod.ts";

const token = (globalThis as unknown as { process: { argv: string[] } })
  .process.argv[2];

function ownStatus(): string | undefined {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "latin1");
      if (!command.includes(token) || !command.includes("bun")) continue;
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (/^Name:\s+bun/m.test(status)) return status;
    } catch {
      // A process that ended while it was read, or one not ours to read.
    }
  }
  return undefined;
}

function locked(): string {
  return /VmLck:\s+(\d+) kB/.exec(ownStatus() ?? "")?.[1] ?? "unknown";
}

const before = locked();
const key = SecretBuffer.alloc(3 * 4096, { lock: "required" });
key.write((view) => view.fill(0x5a));
const live = locked();
key.read((view) => void (view.buffer as ArrayBuffer).transfer());
key.destroy();
console.log(`VmLck kB before ${before} live ${live} quarantined ${locked()}`);
