/**
 * The clock the agent's key lifetimes run on (src/agent/_keys.ts): it
 * follows whichever of the monotonic and the wall clock has run further,
 * so a lifetime ends across a suspend and despite a wall clock set back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { lifetimeClock } from "../../src/agent/_keys.ts";
import { test } from "../_harness.ts";

function clocks() {
  const at = { monotonic: 5_000, wall: 1_700_000_000_000 };
  const clock = lifetimeClock(() => at.monotonic, () => at.wall);
  return { at, clock };
}

test("both clocks running together: the time since it was made", () => {
  const { at, clock } = clocks();
  assert.equal(clock(), 0);
  at.monotonic += 250;
  at.wall += 250;
  assert.equal(clock(), 250);
});

test("a wall clock set back an hour: the monotonic time still counts", () => {
  const { at, clock } = clocks();
  at.monotonic += 1_000;
  at.wall += 1_000 - 3_600_000;
  assert.equal(clock(), 1_000);
});

test("a night's suspend (the monotonic clock stopped): the wall time counts", () => {
  const { at, clock } = clocks();
  at.monotonic += 1_000;
  at.wall += 8 * 3_600_000;
  assert.equal(clock(), 8 * 3_600_000);
});
