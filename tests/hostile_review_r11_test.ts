/**
 * Review R11: the agent's expiry timer and other call-time built-ins left
 * on secret paths after review R10.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startAgent } from "../agent.ts";
import { stats } from "../mod.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

// Bun's and Node's timers are objects whose unref sits on a prototype any
// module can reach; Deno's are numbers, unref'd by Deno.unrefTimer.
const probe: unknown = setTimeout(() => {}, 0);
clearTimeout(probe as number);
const timerProto = typeof probe === "object" && probe !== null
  ? Object.getPrototypeOf(probe) as { unref(): unknown }
  : undefined;

test(
  "a key with a lifetime is wiped on time, with no request, while the timers' unref is replaced by one that cancels the timer",
  async () => {
    const proto = timerProto!;
    const unref = proto.unref;
    const agent = await startAgent({ harden: false });
    try {
      const before = stats().liveBuffers;
      // An unref that cancels the timer it is asked to unref: the expiry
      // timer never fired, and the key stayed until the next request.
      proto.unref = function (this: unknown) {
        clearTimeout(this as number);
        return this;
      };
      try {
        agent.generateKey("short", 1);
      } finally {
        proto.unref = unref;
      }
      assert(stats().liveBuffers > before, "the key is not held");
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(
        stats().liveBuffers,
        before,
        "the key outlived its lifetime",
      );
    } finally {
      await agent.close();
    }
  },
  {
    skip: linuxOnly ||
      (timerProto === undefined ? "timers are numbers here" : false),
  },
);
