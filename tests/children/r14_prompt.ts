// A child for tests/hostile_review_r14_test.ts: reads a line from the
// piped stdin with promptSecret while a constructor and a then replaced
// on Promise.prototype note every number a promise is resolved with, and
// prints the characters they spell.
import { promptSecret } from "../../mod.ts";

const realThen = Promise.prototype.then;
const seen: number[] = [];
Object.defineProperty(Promise.prototype, "constructor", {
  configurable: true,
  writable: true,
  value: function Other() {},
});
Promise.prototype.then = function (
  this: Promise<unknown>,
  ok?: ((value: unknown) => unknown) | null,
  no?: ((reason: unknown) => unknown) | null,
) {
  return Reflect.apply(realThen, this, [(value: unknown) => {
    if (typeof value === "number") seen[seen.length] = value;
    return typeof ok === "function" ? ok(value) : value;
  }, no]);
} as typeof realThen;
const secret = await promptSecret("", { allowPipe: true });
const size = secret.size;
secret.destroy();
let text = "";
for (let i = 0; i < seen.length; i++) {
  if (seen[i] >= 0x20 && seen[i] < 0x7f) text += String.fromCharCode(seen[i]);
}
console.log(JSON.stringify({ size, seen: text }));
