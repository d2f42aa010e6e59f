/**
 * Child for tests/hostile_review_r10_test.ts: the agent's lock under a
 * wall clock that steps (as NTP or a suspended VM steps it), stood in for
 * by a `Date.now` replaced before the lock's module loads. Prints `back
 * <true|false>` (the right passphrase, 250 ms after a wrong one, once the
 * wall clock stepped back an hour: unlocked?) and `forward <true|false>`
 * (the right passphrase at once after a wrong one, the wall clock an hour
 * on: unlocked?).
 *
 * @module
 */

const realNow = Date.now;
let step = 0;
Date.now = () => realNow() + step;
const { Lock } = await import("../../src/agent/_lock.ts");

const right = new TextEncoder().encode("correct horse");
const wrong = new TextEncoder().encode("battery staple");
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

const back = new Lock();
back.lock(right);
back.unlock(wrong);
step = -3_600_000;
await sleep(250);
console.log(`back ${back.unlock(right)}`);

step = 0;
const forward = new Lock();
forward.lock(right);
forward.unlock(wrong);
step = 3_600_000;
console.log(`forward ${forward.unlock(right)}`);
