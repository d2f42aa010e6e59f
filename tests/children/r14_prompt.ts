// A child for tests/hostile_review_r14_test.ts: reads a line from the
// piped stdin with promptSecret while a constructor and a then replaced
// on Promise.prototype note every number a promise is resolved with, and
// prints the characters they spell.
import { promptSecret } from "../../mod.ts";
import { spyOnAwaits } from "../_replaced.ts";

const seen: number[] = [];
spyOnAwaits((value) => {
  if (typeof value === "number") seen[seen.length] = value;
});
const secret = await promptSecret("", { allowPipe: true });
const size = secret.size;
secret.destroy();
let text = "";
for (let i = 0; i < seen.length; i++) {
  if (seen[i] >= 0x20 && seen[i] < 0x7f) text += String.fromCharCode(seen[i]);
}
console.log(JSON.stringify({ size, seen: text }));
