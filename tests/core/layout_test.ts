/**
 * The layout diagram's numbers, checked for every size from 0 to 16385 on
 * 4 KiB, 16 KiB (Apple arm64) and 64 KiB (some arm64 Linux kernels) pages,
 * for both placements.
 *
 * @module
 */

import { CANARY_SIZE, layoutFor, MAX_SIZE } from "../../src/core/_layout.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "../_error_code.ts";
import { test } from "../_harness.ts";

for (const pageSize of [4096, 16384, 65536]) {
  test(`layout invariants hold for sizes 0..16385 on ${pageSize}-byte pages`, () => {
    for (let size = 0; size <= 16385; size++) {
      for (const placement of ["end", "start"] as const) {
        const l = layoutFor(size, pageSize, placement);
        const where = `size ${size}, ${placement}`;
        assert(l.dataOffset === pageSize, `${where}: one leading guard page`);
        assert(
          l.dataLength % pageSize === 0 && l.dataLength > 0,
          `${where}: whole data pages`,
        );
        assert(
          l.total === l.dataLength + 2 * pageSize,
          `${where}: one trailing guard page`,
        );
        // The fewest pages that hold canary and user bytes.
        assert(
          l.dataLength - pageSize < size + CANARY_SIZE,
          `${where}: no spare data page`,
        );
        assert(
          l.dataLength >= size + CANARY_SIZE,
          `${where}: canary and bytes fit`,
        );
        const dataEnd = l.dataOffset + l.dataLength;
        assert(
          l.userOffset >= l.dataOffset && l.userOffset + size <= dataEnd,
          `${where}: user bytes inside data`,
        );
        assert(
          l.canaryOffset >= l.dataOffset &&
            l.canaryOffset + CANARY_SIZE <= dataEnd,
          `${where}: canary inside data`,
        );
        if (placement === "end") {
          assert(
            l.userOffset + size === dataEnd,
            `${where}: user bytes end at the trailing guard`,
          );
          assert(
            l.canaryOffset + CANARY_SIZE === l.userOffset,
            `${where}: canary just before the bytes`,
          );
        } else {
          assert(
            l.userOffset === l.dataOffset,
            `${where}: user bytes page-aligned`,
          );
          assert(
            l.canaryOffset === l.userOffset + size,
            `${where}: canary just after the bytes`,
          );
        }
      }
    }
  });
}

test("layout refuses sizes outside 0..MAX_SIZE", () => {
  for (const size of [-1, MAX_SIZE + 1, 0.5, NaN]) {
    assertThrowsCode(() => layoutFor(size, 4096, "end"), "INVALID_SIZE");
  }
});
