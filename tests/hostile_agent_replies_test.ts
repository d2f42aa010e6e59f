/**
 * The agent's client under a `then` getter planted on Object.prototype:
 * each reply resolves a promise (the request's, then the caller's await),
 * and a promise resolved with a value looks `then` up on it.
 *
 * @module
 */

import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { assertRepliesUnseen } from "./agent_support.ts";

test(
  "AgentClient decrypt, decryptToSecret and hmac under a then getter planted on Object.prototype: no reply holding the plaintext or the MAC is handed to it",
  () =>
    // Planted for the whole exchange: the client's awaits come after each
    // call returns. It only notes what it is handed; one that returned a
    // function could also answer in the agent's stead.
    assertRepliesUnseen((note) => {
      Object.defineProperty(Object.prototype, "then", {
        configurable: true,
        get(this: unknown) {
          if (this instanceof Uint8Array) note(this);
          return undefined;
        },
      });
      return () => {
        delete (Object.prototype as { then?: unknown }).then;
      };
    }, "a then getter"),
  { skip: linuxOnly },
);
