/**
 * Child for the Enclave test of a timer `unref` replaced after import to
 * throw (review R4): sealing must leave no key half behind and no re-split
 * timer running (which held the process open for good). Since review R11
 * the unref taken at load is used and the replacement never asked, so the
 * seal succeeds. Prints one JSON line, then must exit by itself.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { Enclave } from "../../enclave.ts";

const probe: unknown = setInterval(() => {}, 1_000_000);
clearInterval(probe as number);
const timerProto = typeof probe === "object" && probe !== null
  ? Object.getPrototypeOf(probe) as { unref?: unknown }
  : undefined;
const before = stats().liveBuffers;
const source = SecretBuffer.from(new Uint8Array([1, 2, 3]));
let sealed = "sealed";
if (timerProto !== undefined) {
  timerProto.unref = () => {
    throw new Error("no unref today");
  };
}
try {
  Enclave.seal(source, { destroySource: false }).destroy();
} catch (error) {
  sealed = (error as Error).message;
}
source.destroy();
console.log(JSON.stringify({
  objectTimers: timerProto !== undefined,
  sealed,
  leftOver: stats().liveBuffers - before,
}));
