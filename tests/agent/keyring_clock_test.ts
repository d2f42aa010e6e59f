/**
 * The clock the agent's key lifetimes run on (src/agent/_keys.ts): it
 * follows whichever of the monotonic and the wall clock has run further,
 * so a lifetime ends across a suspend and despite a wall clock set back;
 * and the keyring's expiry timer, which looks at it at least once a
 * minute.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Keyring, lifetimeClock } from "../../src/agent/_keys.ts";
import { SecretBuffer } from "../../mod.ts";
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

/**
 * A keyring on fake clocks and a fake timer, holding one secret for
 * `lifetimeSeconds`: `fire()` runs the pending timer as the runtime would
 * once its wait had passed on the monotonic clock (which a suspend stops).
 */
function keyring(lifetimeSeconds: number) {
  const at = { monotonic: 5_000, wall: 1_700_000_000_000 };
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const ring = new Keyring(
    lifetimeClock(() => at.monotonic, () => at.wall),
    (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  );
  const pending = () => timers.filter((timer) => !timer.cancelled);
  const fire = () => {
    const [timer] = pending();
    assert(timer !== undefined, "no timer is pending");
    timer.cancelled = true;
    at.monotonic += timer.ms;
    at.wall += timer.ms;
    timer.fn();
    return timer.ms;
  };
  const secret = SecretBuffer.random(32);
  ring.addSecret("held", secret, lifetimeSeconds);
  return { at, secret, ring, pending, fire };
}

test("a secret for an hour: the timer waits a minute at most, then looks again", () => {
  const { secret, ring, pending, fire } = keyring(3_600);
  assert.deepEqual(pending().map((timer) => timer.ms), [60_000]);
  fire();
  assert.equal(secret.state, "noaccess");
  assert.deepEqual(pending().map((timer) => timer.ms), [60_000]);
  ring.clear();
  assert.deepEqual(pending(), []);
});

test("a key for an hour, a night's suspend: gone within a minute of waking", () => {
  const { at, secret, ring, pending, fire } = keyring(3_600);
  // Asleep for eight hours: the wall clock ran on, the monotonic one and
  // the pending timer's wait did not.
  at.wall += 8 * 3_600_000;
  assert.equal(secret.state, "noaccess", "nothing ran while asleep");
  assert(fire() <= 60_000, "the timer waited longer than a minute awake");
  assert.equal(secret.state, "destroyed");
  assert.deepEqual(ring.secrets(), []);
  assert.deepEqual(pending(), [], "nothing left to wait for");
});

test("a lifetime shorter than a minute: the timer waits for exactly it", () => {
  const { secret, pending, fire } = keyring(10);
  assert.deepEqual(pending().map((timer) => timer.ms), [10_000]);
  fire();
  assert.equal(secret.state, "destroyed");
  assert.deepEqual(pending(), []);
});
