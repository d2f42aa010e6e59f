/**
 * Child for tests/hostile_review_r13_test.ts: replaces the global `Set`,
 * after import, by one that starts with every hardening step in it, then
 * hardens the process and prints what `hardenProcess` returned.
 *
 * @module
 */

import { hardenProcess } from "../../mod.ts";

const RealSet = Set;
const add = RealSet.prototype.add;

class Prefilled<T> extends RealSet<T> {
  constructor(values?: readonly T[] | null) {
    super(values);
    for (const step of ["dumpable", "coreLimit", "crashDialog"]) {
      Reflect.apply(add, this, [step]);
    }
  }
}

Object.defineProperty(globalThis, "Set", {
  value: Prefilled,
  writable: true,
  configurable: true,
});
const result = hardenProcess();
Object.defineProperty(globalThis, "Set", {
  value: RealSet,
  writable: true,
  configurable: true,
});
console.log(JSON.stringify(result));
