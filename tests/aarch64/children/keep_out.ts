/**
 * Child for the aarch64 pass's syscall-log checks: makes one buffer whose
 * data is exactly one page (placement "start", so `address` is the data
 * page), probes memfd_secret, destroys the buffer, and prints one JSON line
 * with the addresses, so the parent can find these calls in qemu's log.
 *
 * @module
 */

import { capabilities, SecretBuffer } from "../../../mod.ts";
import { native } from "../../../src/core/_native.ts";
import { emit } from "../../_forensics.ts";

const page = native().pageSize;
const buffer = SecretBuffer.random(page - 64, { placement: "start" });
const data = buffer.address;
const secretMemory = capabilities().secretMemory;
buffer.destroy();
emit({
  page,
  data: `0x${data.toString(16)}`,
  reservation: `0x${(data - BigInt(page)).toString(16)}`,
  secretMemory,
});
