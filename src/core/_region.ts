/**
 * One guarded mapping: how it is made, opened, checked and unmade. The steps
 * are written once here, in a fixed order, and every buffer follows them
 * (a pool's arena retires by the same recipe, `retireMapping`).
 *
 * Syscalls for one small buffer on Linux: mmap (reserve), mmap (data pages,
 * locked), madvise ×2, mprotect (rest) at creation; mprotect (open) and
 * munmap at destroy: 7. One getrandom(2) per 256 buffers refills canaries.
 * The memfd_secret backend maps the data pages from a secret-memory file
 * instead: memfd_secret, ftruncate, mmap, close, madvise(DONTFORK) replace
 * the locked mmap and the two madvise calls (9 in all).
 *
 * @module
 */

import { nextCanary } from "./_canary.ts";
import { CANARY_SIZE as CANARY_BYTES } from "./_layout.ts";
import { SecretMemoryError } from "./errors.ts";
import type { Layout } from "./_layout.ts";
import type { NativeMemory, Protection } from "./_native.ts";
import type { LockPolicy, MemoryBackend } from "./_validate.ts";
import { Bytes, countOf, detachBuffer, isDetached } from "./_intrinsics.ts";
import { checkMapHeadroom } from "./_map_limit.ts";
import {
  forgetRegion,
  mappingReleased,
  reclaimEnded,
  recordRegion,
} from "./_process_table.ts";
import { quarantine } from "./_quarantine.ts";
import {
  type Loan,
  markRegionAccess,
  markRegionClosed,
  markRegionOpen,
  type Probe,
  regionHolds,
} from "./_open.ts";
import { refusedVariableNote } from "./_policy.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

/** A live mapping and the views over it. Holds no reference to its owner. */
export interface Region {
  readonly base: bigint;
  readonly layout: Layout;
  readonly dataAddress: bigint;
  /** `layout.dataLength`, where the probe looks for a loan's mapping. */
  readonly dataLength: number;
  readonly userAddress: bigint;
  /** Whether the data pages are locked in RAM. */
  readonly locked: boolean;
  /** What backs the data pages: anonymous memory or memfd_secret(2). */
  readonly backend: "anonymous" | "secretmem";
  /**
   * Zero-copy buffer over exactly the user bytes. Replaced when a caller
   * transferred it away (see `escaped`), so the buffer's own size holds.
   */
  user: ArrayBuffer;
  /**
   * Whether a view over the pages got out of the library's reach: its
   * buffer was transferred away, or it was lent to outside code that did
   * not give it back. Such pages are wiped and quarantined, never unmapped.
   */
  escaped: boolean;
  /** Zero-copy view over the canary bytes in the mapping. */
  readonly canary: Uint8Array;
  /** The value the canary must hold. */
  readonly expected: Uint8Array;
  protection: Protection;
  /** Its entry in the process-wide table (`_process_table.ts`), or -1. */
  readonly entry: number;
  /** Its entry in the list of open ranges every copy reads, or -1. */
  openEntry: number;
  /** Views lent out from its pages and not taken back (`_lend.ts`). */
  loans: Set<Loan> | undefined;
  /** Whether a caller's view lies over it (`OpenMapping.holds`). */
  holds(probe: Probe): boolean;
}

/**
 * Maps a guarded region for `layout`, lets `fill` write the user bytes while
 * the pages are still writable, and leaves it at rest (noaccess).
 * On any failure, nothing stays mapped.
 */
export function mapRegion(
  memory: NativeMemory,
  layout: Layout,
  lock: LockPolicy,
  fill?: (user: Uint8Array, userAddress: bigint) => void,
  backend: MemoryBackend = "anonymous",
): Region {
  // 1. Reserve guard + data + guard as one inaccessible mapping, while the
  // runtime keeps room under vm.max_map_count.
  checkMapHeadroom(memory);
  const base = memory.reserve(layout.total);
  const dataAddress = base + BigInt(layout.dataOffset);
  // Entered before any secret is written, so that if this thread is ended
  // from now on, another thread wipes what it left.
  const entry = recordRegion(
    memory,
    base,
    layout.total,
    dataAddress,
    layout.dataLength,
  );
  let committed = false;
  let user: ArrayBuffer | undefined;
  let canary: Uint8Array | undefined;
  try {
    const userAddress = base + BigInt(layout.userOffset);
    // 2. Back the data pages, locked; the guard pages stay unbacked.
    const backing = backend === "anonymous"
      ? undefined
      : commitSecretData(memory, dataAddress, layout.dataLength, backend);
    const locked = backing === undefined
      ? commitData(memory, dataAddress, layout.dataLength, lock)
      : true;
    committed = true;
    // 3. Keep the data pages out of core dumps and forked children (secret
    // memory comes out of both already).
    if (backing === undefined) {
      memory.keepOutOfDumpsAndForks(dataAddress, layout.dataLength);
    }
    // 4. Place the canary and the caller's bytes.
    const expected = nextCanary(memory);
    canary = new Bytes(
      memory.view(base + BigInt(layout.canaryOffset), expected.length),
    );
    canary.set(expected);
    // Marked as the library's own only when the owner first hands a view
    // out (see SecretBuffer), so that allocation pays nothing for it.
    user = memory.view(userAddress, layout.size);
    fill?.(new Bytes(user), userAddress);
    // 5. Rest: nothing can touch the pages until a scope opens them.
    memory.protect(dataAddress, layout.dataLength, "noaccess");
    return {
      base,
      layout,
      dataAddress,
      dataLength: layout.dataLength,
      userAddress,
      locked,
      backend: backing ?? "anonymous",
      user,
      canary,
      expected,
      protection: "noaccess",
      escaped: false,
      entry,
      openEntry: -1,
      loans: undefined,
      holds: regionHolds,
    };
  } catch (error) {
    // The caller's bytes may already be in the pages: wipe before unmap.
    detach(user, canary);
    try {
      if (committed) {
        memory.protect(dataAddress, layout.dataLength, "readwrite");
        memory.wipe(dataAddress, layout.dataLength);
      }
    } finally {
      forgetRegion(entry, base);
      memory.release(base, layout.total);
    }
    throw error;
  }
}

/**
 * Backs data pages under the lock policy: locked, or after one raise of the
 * soft limit, or (best-effort) unlocked. Returns whether they are locked.
 * @throws {SecretMemoryError} `MEMLOCK_LIMIT` when required and refused.
 */
export function commitData(
  memory: NativeMemory,
  address: bigint,
  length: number,
  lock: LockPolicy,
): boolean {
  if (memory.commit(address, length, true) === "ok") return true;
  // Raise the soft limit toward the hard one, once, then try again.
  if (
    memory.raiseLockLimit() && memory.commit(address, length, true) === "ok"
  ) {
    return true;
  }
  // Workers that ended without destroying their buffers may hold the lock.
  if (
    reclaimEnded(memory) > 0 && memory.commit(address, length, true) === "ok"
  ) {
    return true;
  }
  if (lock === "best-effort") {
    memory.commit(address, length, false);
    return false;
  }
  throw memlockError(memory, length);
}

/**
 * Backs the data pages with memfd_secret(2) pages. Returns undefined when
 * `auto` must fall back to anonymous pages; `secretmem` throws instead.
 */
function commitSecretData(
  memory: NativeMemory,
  address: bigint,
  length: number,
  backend: "secretmem" | "auto",
): "secretmem" | undefined {
  if (memory.commitSecret === undefined) {
    if (backend === "auto") return undefined;
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot use secret memory on ${memory.os}: memfd_secret(2) is Linux-only;` +
        ' use backend "auto" to fall back to anonymous pages',
    );
  }
  let result = memory.commitSecret(address, length);
  // Raise the soft limit toward the hard one, once, then try again.
  if (result === "lock-limit" && memory.raiseLockLimit()) {
    result = memory.commitSecret(address, length);
  }
  if (result === "ok") return "secretmem";
  if (backend === "auto") return undefined;
  if (result === "lock-limit") {
    throw memlockError(memory, length, true);
  }
  throw new SecretMemoryError(
    "UNSUPPORTED_PLATFORM",
    `Cannot use secret memory: ${memory.secretMemory?.().detail};` +
      ' use backend "auto" to fall back to anonymous pages',
  );
}

function memlockError(
  memory: NativeMemory,
  length: number,
  secret = false,
): SecretMemoryError {
  const { soft, hard } = memory.lockLimit();
  if (memory.os === "windows") {
    return new SecretMemoryError(
      "MEMLOCK_LIMIT",
      `Cannot lock ${length} bytes: the process working set (minimum ${soft} bytes,` +
        ` maximum ${hard} bytes) holds no more locked pages and Windows refused to grow it;` +
        " raise it with SetProcessWorkingSetSize before allocating, free memory," +
        " destroy buffers you no longer need," +
        ' or pass { lock: "best-effort" } to allow unlocked pages' +
        " (under Wine the limit is the host's RLIMIT_MEMLOCK: `ulimit -l`)" +
        refusedVariableNote(),
    );
  }
  const limit = soft === Infinity ? "unlimited" : `${soft} bytes`;
  return new SecretMemoryError(
    "MEMLOCK_LIMIT",
    `Cannot lock ${length} bytes${
      secret ? " of secret memory" : ""
    }: the locked-memory limit (RLIMIT_MEMLOCK) is ${limit}` +
      ` (hard limit ${
        hard === Infinity ? "unlimited" : `${hard} bytes`
      }) and is reached;` +
      " raise it with `ulimit -l <KiB>` in the shell that starts the process," +
      " LimitMEMLOCK= in a systemd unit, or memlock in /etc/security/limits.conf;" +
      " or destroy buffers you no longer need, or " +
      (secret
        ? 'pass { backend: "auto" } to fall back to anonymous pages (secret memory is always locked)'
        : 'pass { lock: "best-effort" } to allow unlocked pages' +
          refusedVariableNote()),
  );
}

/** Changes the data pages' protection, if it differs. */
export function setProtection(
  memory: NativeMemory,
  region: Region,
  protection: Protection,
): void {
  const was = region.protection;
  if (was === protection) return;
  memory.protect(region.dataAddress, region.layout.dataLength, protection);
  region.protection = protection;
  // Open pages are where a caller's new view over them can be read (and,
  // for other copies of secmem, where a source may be ours).
  if (was === "noaccess") markRegionOpen(region);
  else if (protection === "noaccess") markRegionClosed(region);
  else markRegionAccess(region);
}

/** Whether the canary still holds its value; the pages must be readable. */
export function canaryIntact(region: Region): boolean {
  // Both arrays are the library's own (never a caller's), so the public
  // comparison's argument checks are skipped on this hot path.
  const { canary, expected } = region;
  let difference = 0;
  for (let i = 0; i < CANARY_BYTES; i++) difference |= canary[i] ^ expected[i];
  return difference === 0;
}

/** A guarded mapping as retiring sees it: a buffer's region or an arena. */
export type Retirable = Pick<
  Region,
  "base" | "dataAddress" | "entry" | "escaped" | "loans"
>;

/**
 * The one retire recipe, in a fixed order: `inspect` opens the data pages
 * and reads what must be checked there (the canaries), every data byte is
 * wiped; then, whatever failed, `detachViews` empties every view over the
 * pages and says whether one had escaped (its buffer transferred away),
 * the mapping leaves the process table, and it is unmapped, or quarantined
 * (see `quarantine`) when a view escaped or is lent to outside code that
 * has not given it back, so that no later secret is mapped under a view
 * still out there. An unmapped range stops counting toward the map limit
 * (`mappingReleased`); a quarantined one goes on counting. Returns what
 * `inspect` found.
 */
export function retireMapping<T>(
  memory: NativeMemory,
  mapping: Retirable,
  sizes: { readonly dataLength: number; readonly total: number },
  inspect: () => T,
  detachViews: () => boolean,
): T {
  const { dataAddress, base } = mapping;
  const { dataLength } = sizes;
  try {
    const found = inspect();
    memory.wipe(dataAddress, dataLength);
    return found;
  } finally {
    const { loans } = mapping;
    if (detachViews() || (loans !== undefined && countOf(loans) > 0)) {
      mapping.escaped = true;
    }
    forgetRegion(mapping.entry, base);
    if (mapping.escaped) {
      quarantine(memory, dataAddress, dataLength);
    } else {
      memory.release(base, sizes.total);
      // Only now: a release that threw leaves the mapping in the process,
      // and the map limit must go on counting it.
      mappingReleased();
    }
  }
}

/**
 * Destroys a region by the retire recipe (`retireMapping`): its canary
 * checked, every data byte (slack, canary and user bytes) wiped, the views
 * detached, unmapped or quarantined. Returns whether the canary was
 * intact; the region is gone either way.
 */
export function unmapRegion(memory: NativeMemory, region: Region): boolean {
  return retireMapping(memory, region, region.layout, () => {
    setProtection(memory, region, "readwrite");
    return canaryIntact(region);
  }, () => {
    // Tested before our own detach: was it transferred away (transfer(),
    // structuredClone or postMessage with a transfer list)?
    const escaped = hasEscaped(region);
    detach(region.user, region.canary);
    region.expected.fill(0);
    if (region.protection !== "noaccess") markRegionClosed(region);
    region.protection = "noaccess";
    return escaped;
  });
}

/** Whether the region's user buffer was detached by someone else. */
export function hasEscaped(region: Region): boolean {
  return region.layout.size > 0 && isDetached(region.user);
}

/**
 * Detaches zero-copy buffers: every view over them becomes empty, so no
 * caller can reach the address range once it is unmapped and reused.
 * `transfer(0)` copies nothing. A buffer someone else already detached is
 * left alone (transferring it again would throw).
 */
function detach(user: ArrayBuffer | undefined, canary: Uint8Array | undefined) {
  if (user !== undefined) detachBuffer(user);
  const canaryBuffer = canary?.buffer as ArrayBuffer | undefined;
  if (canaryBuffer !== undefined) detachBuffer(canaryBuffer);
}
