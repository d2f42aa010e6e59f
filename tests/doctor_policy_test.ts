/**
 * The doctor's lock-policy and hardening lines: the policy in force and
 * what best-effort means, a bad SECMEM_LOCK failing the report, and the
 * hardening state of the process that runs it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { describeChild } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const doctor = new URL("../doctor.ts", import.meta.url).href;

interface Check {
  id: string;
  status: string;
  detail: string;
}

function checks(variable: string): { status: number | null; checks: Check[] } {
  const child = runChild(doctor, ["--json"], {
    env: { SECMEM_LOCK: variable },
  });
  const report = JSON.parse(child.stdout) as { checks: Check[] };
  return { status: child.status, checks: report.checks };
}

const find = (list: Check[], id: string): Check => {
  const check = list.find((c) => c.id === id);
  assert(check, `no "${id}" line`);
  return check;
};

test("doctor: the default policy is required, and said so", () => {
  const { status, checks: list } = checks("");
  assert.equal(status, 0);
  const line = find(list, "lock-policy");
  assert.equal(line.status, "info");
  assert.match(line.detail, /^required \(the default\)/);
});

test("doctor: SECMEM_LOCK=best-effort warns that pages may be swapped", () => {
  const { status, checks: list } = checks("best-effort");
  assert.equal(status, 0);
  const line = find(list, "lock-policy");
  assert.equal(line.status, "warn");
  assert.match(line.detail, /^best-effort \(set by SECMEM_LOCK\)/);
  assert.match(line.detail, /may be swapped/);
  assert.match(line.detail, /unlocked now: \d+ buffer/);
});

test("doctor: an unknown SECMEM_LOCK fails the report and exits non-zero", () => {
  const { status, checks: list } = checks("lax");
  assert.notEqual(status, 0);
  const line = find(list, "lock-policy");
  assert.equal(line.status, "fail");
  assert.match(line.detail, /SECMEM_LOCK="lax"/);
});

test("doctor: the hardening line follows hardenProcess", () => {
  const child = runChild(childScript("doctor_hardening.ts"));
  assert.equal(child.status, 0, describeChild(child));
  const [before, after] = child.stdout.trim().split("\n").map((line) =>
    JSON.parse(line) as Check
  );
  assert.equal(before.status, "info");
  assert.match(before.detail, /not hardened \(dumpable/);
  assert.match(before.detail, /call hardenProcess\(\)/);
  assert.equal(after.status, "pass");
  assert.match(after.detail, /is hardened \(not dumpable, RLIMIT_CORE 0\)/);
}, { skip: linuxOnly });
