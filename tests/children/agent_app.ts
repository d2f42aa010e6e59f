/**
 * An app that uses the agent through the FFI-free client only: run under
 * Deno without --allow-ffi and under Node without --experimental-ffi. Prints
 * one JSON line: the keys it saw, a signature, an HMAC and a round trip.
 */

import { connectAgent } from "../../agent_client.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
if ((host.Deno?.args ?? host.process.argv.slice(2))[0] === "control") {
  // The library proper, loaded the same way, does need FFI.
  const { SecretBuffer } = await import("../../mod.ts");
  SecretBuffer.random(32);
}

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const message = new TextEncoder().encode("app message");
const agent = await connectAgent();
const keys = await agent.list();
const signature = await agent.sign(keys[0].blob, message);
const mac = await agent.hmac("webhook", message);
const sealed = await agent.encrypt("wrap", message);
const opened = await agent.decrypt("wrap", sealed);
agent.close();
console.log(JSON.stringify({
  keys: keys.map((k) => k.publicKey),
  blob: hex(keys[0].blob),
  signature: hex(signature),
  mac: hex(mac),
  roundTrip: new TextDecoder().decode(opened),
}));
