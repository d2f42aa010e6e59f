/**
 * Adversarial suite, class 10: exhaustion past the lock limit. Allocating
 * buffers until `vm.max_map_count` used to end in ENOMEM and then in the
 * runtime dying on its own next mapping. Now secmem refuses with
 * `MAP_LIMIT`, naming SecretPool, while the runtime still has room; after
 * the error the runtime maps, compiles and allocates as before.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { mapLimitSkip } from "./_platform.ts";

test(
  "allocating until the map limit is refused with MAP_LIMIT, and the runtime goes on",
  () => {
    const child = runChild(childScript("hostile.ts"), ["exhaust"], {
      timeout: 300_000,
    });
    const out = child.stdout;
    console.log(`[${runtime}]   ${out.trim().split("\n")[0]}`);
    assert.equal(
      child.status,
      0,
      `status ${child.status} signal ${child.signal}: ${out}${child.stderr}`,
    );
    assert.match(out, /refused MAP_LIMIT after \d+/);
    assert(out.includes("names pool true"), out);
    assert(out.includes("compiled 42"), out);
    assert(out.includes("after ok 2000 0"), out);
  },
  { skip: mapLimitSkip },
);
