/**
 * The agent under built-ins replaced after import (assigned, as a hostile
 * module loaded later would): the peer check lets a connection in by the
 * uid SO_PEERCRED answers and the path the socket is bound to, and a
 * replacement must not answer the agent's own for another user's
 * connection; a key's lifetime ends on the agent's own timer, which a
 * replacement must not keep from running; close() ends every connection,
 * which a replacement must not keep off its list.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { connectAgent, startAgent } from "../agent.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import {
  assertExpiresUnder,
  nobodyPeerSkip,
  peerAsNobody,
  scratch,
} from "./agent_support.ts";

const ownUid = process.getuid?.() ?? -1;
const getUint32 = DataView.prototype.getUint32;
const decode = TextDecoder.prototype.decode;

test(
  "a peer of another uid is refused while DataView's getUint32 answers the agent's uid and TextDecoder's decode its socket path",
  async () => {
    const { dir, done } = scratch();
    chmodSync(dir, 0o755);
    const socket = join(dir, "open.sock");
    const agent = await startAgent({ harden: false, socket });
    try {
      // Let anyone through the file system: only the peer check is left.
      chmodSync(socket, 0o777);
      assert.equal(await peerAsNobody(socket), "closed", "control");
      Object.defineProperty(DataView.prototype, "getUint32", {
        configurable: true,
        writable: true,
        value: function (this: DataView, at: number, little?: boolean) {
          // struct ucred { pid; uid; gid }: the uid is the word at 4.
          return this.byteLength === 12 && at === 4
            ? ownUid
            : Reflect.apply(getUint32, this, [at, little]);
        },
      });
      // Writable but not configurable under Bun: assigned, as a hostile
      // module would.
      TextDecoder.prototype.decode = () => agent.socketPath;
      let answer: string;
      try {
        answer = await peerAsNobody(socket);
      } finally {
        Object.defineProperty(DataView.prototype, "getUint32", {
          configurable: true,
          writable: true,
          value: getUint32,
        });
        TextDecoder.prototype.decode = decode;
      }
      assert.equal(answer, "closed", "another uid was answered");
    } finally {
      await agent.close();
      done();
    }
  },
  { skip: nobodyPeerSkip },
);

test(
  "a secret with a lifetime is destroyed on time, with no request, while setTimeout and Math.min are replaced",
  () =>
    assertExpiresUnder(() => {
      const globals = globalThis as { setTimeout: unknown };
      const wait = globals.setTimeout;
      const min = Math.min;
      // A setTimeout that drops what it is given, and a Math.min that
      // answers "never": either kept the secret past its lifetime.
      globals.setTimeout = () => 0;
      Math.min = () => 2 ** 31 - 1;
      return () => {
        globals.setTimeout = wait;
        Math.min = min;
      };
    }),
  { skip: linuxOnly },
);

test(
  "close() ends a connection accepted while Set.prototype.add was replaced",
  async () => {
    const agent = await startAgent({ harden: false });
    const add = Set.prototype.add;
    let client;
    // Dropping every add: the agent's list of open connections.
    Set.prototype.add = function () {
      return this;
    };
    try {
      client = await connectAgent(agent.socketPath);
      assert.deepEqual(await client.list(), []);
    } finally {
      Set.prototype.add = add;
    }
    try {
      const closing = agent.close();
      await assert.rejects(
        client.list(),
        "the connection outlived close()",
      );
      client.close();
      await closing;
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
