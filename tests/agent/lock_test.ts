/**
 * The agent's lock (src/agent/_lock.ts) on a fake clock: the right
 * passphrase unlocks, a wrong one starts a back-off that grows with each
 * wrong guess in a row, and a guess within it is refused unread.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  BACKOFF_MAX_STEPS,
  BACKOFF_STEP_MS,
  Lock,
} from "../../src/agent/_lock.ts";
import { test } from "../_harness.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const right = bytes("correct horse");
const wrong = bytes("battery staple");

/** A lock on a clock the test moves. */
function lockAt(start = 1_000_000) {
  const clock = { now: start };
  const lock = new Lock(() => clock.now);
  assert(lock.lock(right));
  return { lock, clock };
}

test("the right passphrase unlocks; a second lock or unlock is refused", () => {
  const { lock } = lockAt();
  assert.equal(lock.locked, true);
  assert.equal(lock.lock(wrong), false, "locked twice");
  assert.equal(lock.unlock(right), true);
  assert.equal(lock.locked, false);
  assert.equal(lock.unlock(right), false, "unlocked when not locked");
});

test("a wrong guess refuses every guess, the right one too, for 100 ms", () => {
  const { lock, clock } = lockAt();
  assert.equal(lock.unlock(wrong), false);
  clock.now += BACKOFF_STEP_MS - 1;
  assert.equal(lock.unlock(right), false, "unlocked within the back-off");
  assert.equal(lock.locked, true);
  clock.now += 1;
  assert.equal(lock.unlock(right), true, "refused after the back-off");
});

test("the back-off grows by 100 ms with each wrong guess in a row", () => {
  const { lock, clock } = lockAt();
  for (let n = 1; n <= 5; n++) {
    assert.equal(lock.unlock(wrong), false);
    clock.now += n * BACKOFF_STEP_MS - 1;
    assert.equal(lock.unlock(right), false, `guess ${n}: back-off too short`);
    clock.now += 1;
  }
  assert.equal(lock.unlock(right), true);
});

test("guesses refused within the back-off neither count nor extend it", () => {
  const { lock, clock } = lockAt();
  assert.equal(lock.unlock(wrong), false);
  for (let i = 0; i < 50; i++) {
    clock.now += 1;
    assert.equal(lock.unlock(wrong), false);
  }
  clock.now += BACKOFF_STEP_MS - 50;
  assert.equal(lock.unlock(right), true);
});

test("the back-off stops growing at 10 s", () => {
  const { lock, clock } = lockAt();
  for (let n = 1; n <= BACKOFF_MAX_STEPS + 20; n++) {
    assert.equal(lock.unlock(wrong), false);
    clock.now += BACKOFF_MAX_STEPS * BACKOFF_STEP_MS;
  }
  // After the last wrong guess, the wait is the longest one: 10 s.
  clock.now -= 1;
  assert.equal(lock.unlock(right), false, "back-off shorter than 10 s");
  clock.now += 1;
  assert.equal(lock.unlock(right), true, "back-off longer than 10 s");
});

test("unlocking and locking again starts with no back-off", () => {
  const { lock, clock } = lockAt();
  for (let n = 1; n <= 3; n++) {
    assert.equal(lock.unlock(wrong), false);
    clock.now += n * BACKOFF_STEP_MS;
  }
  assert.equal(lock.unlock(right), true);
  assert(lock.lock(right));
  assert.equal(lock.unlock(wrong), false);
  clock.now += BACKOFF_STEP_MS;
  assert.equal(lock.unlock(right), true, "the earlier count carried over");
});

test("clear forgets the passphrase: nothing unlocks, and lock works again", () => {
  const { lock } = lockAt();
  lock.clear();
  assert.equal(lock.locked, false);
  assert.equal(lock.unlock(right), false);
  assert(lock.lock(wrong));
  assert.equal(lock.unlock(wrong), true);
});
