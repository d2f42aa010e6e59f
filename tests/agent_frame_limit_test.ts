/**
 * The agent's 256 KiB frame cap, from the client's side: a request that
 * cannot fit, or an `encrypt` whose sealed answer could not, is refused
 * before it is sent, and the connection stays usable; an agent asked
 * directly to seal too much answers with a failure, not a frame the
 * client would have to drop the connection over.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { assertRejectsCode } from "./_error_code.ts";
import { connectAgent, startAgent } from "../agent.ts";
import { OVERHEAD } from "../src/crypto/cipher.ts";
import {
  EXT,
  FrameWriter,
  MAX_FRAME,
  MAX_SEALED_PLAINTEXT,
  MSG,
} from "../src/agent/_protocol.ts";

const linuxOnly = os !== "linux" && "the agent runs on Linux";

test(
  "agent: the largest plaintext encrypt takes is what a sealed answer leaves of one frame",
  () => {
    // type byte, the string's length, nonce ‖ ciphertext ‖ tag.
    assert.equal(MAX_SEALED_PLAINTEXT, MAX_FRAME - 1 - 4 - OVERHEAD);
  },
);

test(
  "agent client: encrypt of more than a sealed answer can carry, and a request over one frame, are refused before sending; the connection stays usable",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("wrap");
      // Before the fix, the agent's answer was just over the cap and the
      // client dropped the connection: every later call failed.
      await assertRejectsCode(
        () => client.encrypt("w", new Uint8Array(MAX_SEALED_PLAINTEXT + 1)),
        "INVALID_ARGUMENT",
      );
      await assertRejectsCode(
        () =>
          client.encrypt(
            "wrap",
            new Uint8Array(8),
            new Uint8Array(MAX_FRAME),
          ),
        "INVALID_ARGUMENT",
      );
      await assertRejectsCode(
        () => client.hmac("wrap", new Uint8Array(MAX_FRAME)),
        "INVALID_ARGUMENT",
      );
      // The largest plaintext that fits both ways round trips.
      const largest = MAX_SEALED_PLAINTEXT - 64;
      const plaintext = new Uint8Array(largest).fill(7);
      const sealed = await client.encrypt("wrap", plaintext);
      assert.equal(sealed.length, largest + OVERHEAD);
      const opened = await client.decrypt("wrap", sealed);
      assert.deepEqual(opened, plaintext);
      assert.equal((await client.secrets()).length, 1);
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "agent: asked directly to seal more than one answer frame carries, it answers with a failure and keeps serving",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("wrap");
      const plaintext = new Uint8Array(MAX_SEALED_PLAINTEXT + 1);
      const request = new FrameWriter(MSG.EXTENSION, MAX_FRAME)
        .string(EXT.ENCRYPT)
        .string("wrap")
        .string(plaintext)
        .string(new Uint8Array(0))
        .frame();
      assert.ok(request.length - 4 <= MAX_FRAME, "the request itself fits");
      const reply = await client.request(request);
      assert.equal(reply[0], MSG.EXTENSION_FAILURE);
      assert.equal((await client.secrets()).length, 1);
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
