/**
 * The access gate alone: which protection the pages need for any mix of
 * scopes and the low-level switch.
 *
 * @module
 */

import { AccessGate } from "../../src/core/_access.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "../_error_code.ts";
import { test } from "../_harness.ts";

test("gate: rests noaccess, reads readonly, writes readwrite", () => {
  const gate = new AccessGate();
  assert.deepEqual(gate.required, "noaccess");
  gate.enter("read");
  assert.deepEqual(gate.required, "readonly");
  assert.deepEqual(gate.exit("read"), "noaccess", "exit() says what is needed");
  gate.enter("write");
  assert.deepEqual(gate.required, "readwrite");
  gate.enter("read");
  assert.deepEqual(
    gate.required,
    "readwrite",
    "a read inside a write keeps write access",
  );
  gate.exit("read");
  gate.exit("write");
  assert.deepEqual(gate.required, "noaccess");
});

test("gate: a write inside a read is refused, and the gate is unchanged", () => {
  const gate = new AccessGate();
  gate.enter("read");
  assertThrowsCode(() => gate.enter("write"), "ACCESS_DENIED");
  assert.deepEqual(gate.required, "readonly");
  gate.exit("read");
  assert.deepEqual(gate.required, "noaccess");
});

test("gate: a write inside read inside write is allowed", () => {
  const gate = new AccessGate();
  gate.enter("write");
  gate.enter("read");
  gate.enter("write");
  assert.deepEqual(gate.required, "readwrite");
});

test("gate: protect() sets a floor that scopes never lower", () => {
  const gate = new AccessGate();
  gate.setBase("readwrite");
  gate.enter("read");
  assert.deepEqual(gate.required, "readwrite");
  gate.exit("read");
  gate.setBase("readonly");
  assert.deepEqual(gate.required, "readonly");
  gate.setBase("noaccess");
  assert.deepEqual(gate.required, "noaccess");
});
