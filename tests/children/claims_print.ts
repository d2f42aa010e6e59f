/**
 * Child for tests/claims_print_test.ts: prints a SecretBuffer the ways a
 * program would (console.log, which each runtime formats with its own
 * inspect, String, JSON, node:util inspect, a template), one line each.
 *
 * @module
 */

import { inspect } from "node:util";
import { SecretBuffer } from "../../mod.ts";

const buffer = SecretBuffer.alloc(5);
buffer.write((bytes) => bytes.set([0x41, 0x42, 0x43, 0x44, 0x45])); // ABCDE
console.log(buffer);
console.log({ nested: buffer });
console.log(String(buffer));
console.log(JSON.stringify(buffer));
console.log(inspect(buffer));
console.log(`${buffer}`);
buffer.read(() => console.log(buffer));
buffer.destroy();
console.log(buffer);
