/**
 * The shared cases (tests/_cases.ts) run against pool slots, at rest
 * noaccess and at rest readwrite, and against SecretBuffer, so that one
 * table states what every secret must do.
 *
 * @module
 */

import {
  MAX_SIZE,
  SecretBuffer,
  SecretPool,
  SecretSlot,
  stats,
} from "../mod.ts";
import { secretCases, type SecretLike } from "./_cases.ts";

secretCases({
  label: "SecretBuffer",
  className: "SecretBuffer",
  alloc: (size) => SecretBuffer.alloc(size),
  from: (bytes, options) => SecretBuffer.from(bytes, options),
  random: (size) => SecretBuffer.random(size),
  ctor: SecretBuffer,
  snapshot: () => stats(),
  states: { rest: "noaccess", read: "readonly", write: "readwrite" },
  extraBadSizes: [["MAX_SIZE + 1", MAX_SIZE + 1]],
  // Placement "end": the canary sits right before the user bytes.
  outside: (secret: SecretLike) => secret.address - 1n,
});

for (const rest of ["noaccess", "readwrite"] as const) {
  const pool = new SecretPool({ rest });
  const open = rest === "readwrite";
  secretCases({
    label: `SecretSlot (rest ${rest})`,
    className: "SecretSlot",
    alloc: (size) => pool.alloc(size),
    from: (bytes, options) => pool.from(bytes, options),
    random: (size) => pool.random(size),
    ctor: SecretSlot,
    snapshot: () => {
      const { liveSlots, arenas, mappedBytes, lockedBytes } = pool.stats();
      return { liveSlots, arenas, mappedBytes, lockedBytes, core: stats() };
    },
    states: {
      rest,
      read: open ? "readwrite" : "readonly",
      write: "readwrite",
    },
    extraBadSizes: [
      ["0", 0],
      ["the largest slot + 1", SecretPool.maxSlotSize + 1],
      ["MAX_SIZE", MAX_SIZE],
    ],
    // The user bytes end at the slot's end; the canary follows at once.
    outside: (secret: SecretLike) => secret.address + BigInt(secret.size),
  });
}
