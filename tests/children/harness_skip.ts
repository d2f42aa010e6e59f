/**
 * Child for tests/harness_test.ts: registers one test that throws `Skip`
 * at run time and one that passes, runs them with the harness, and prints
 * the totals as JSON after the harness's own lines.
 *
 * @module
 */

import { runFiles, Skip, test } from "../_harness.ts";

test("decides at run time that it cannot run", () => {
  throw new Skip("the tool is missing here");
});
test("runs", () => {});
const totals = await runFiles([]);
console.log(JSON.stringify(totals));
