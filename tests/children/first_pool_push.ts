/**
 * Child for tests/hostile_replaced_collections_test.ts: the process's first
 * pool slot is made while `Array.prototype.push` does nothing, then push is
 * put back. That first slot's arena is when the pools' purge hook is added,
 * once for the process. Prints `state <slot's state after purge()>`.
 *
 * @module
 */

import { purge, SecretBuffer, SecretPool, type SecretSlot } from "../../mod.ts";

// The native layer loaded first: Node's own loader needs a working push.
SecretBuffer.alloc(1).destroy();
const pool = new SecretPool();
const push = Array.prototype.push;
Array.prototype.push = () => 0;
let slot: SecretSlot;
try {
  slot = pool.from(new Uint8Array(16).fill(0x5a));
} finally {
  Array.prototype.push = push;
}
purge();
console.log(`state ${slot.state}`);
