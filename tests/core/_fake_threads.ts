/**
 * Threads for unit tests of the process table, in one process: each "thread"
 * is a private instance of `_process_table.ts` (its module state is per
 * thread in real life) over one fake native layer, sharing one table, with
 * a fake thread clock: what `threadStart(tid)` answers is set by the test,
 * so a thread ends, or its id is taken by a newer thread, on one line.
 * The process's id is `PID`: a thread of that id is its first thread.
 *
 * @module
 */

import type { NativeMemory } from "../../src/core/_native.ts";
import { createFake, type Fake } from "../_fake_native.ts";
import { fresh } from "./_fresh.ts";

/** The process table module, one instance per fake thread. */
export type ProcessTable = typeof import("../../src/core/_process_table.ts");

/** One fake thread: its table module and the native layer it sees. */
export interface FakeThread {
  readonly tid: number;
  readonly table: ProcessTable;
  readonly memory: NativeMemory;
}

/** A fake process: one fake native layer, one shared table, a thread clock. */
export interface FakeProcess {
  readonly fake: Fake;
  /** The names `sharedTable` was asked for. */
  readonly tableNames: string[];
  /** Starts a thread `tid` at clock time `start`, with its own module. */
  thread(
    tid: number,
    start: number,
    wrap?: (memory: NativeMemory) => NativeMemory,
  ): Promise<FakeThread>;
  /** Thread `tid` ends: its /proc/self/task entry is gone. */
  end(tid: number): void;
  /** Sets what `threadTicks(tid)` answers (a number, -1 or null). */
  clock: Map<number, number | null>;
  /** The shared table's bytes, to read its owner words (undefined before it is mapped). */
  tableBytes(): ArrayBuffer | undefined;
  /** Maps a guarded region as the core would and writes a secret into it. */
  region(
    pages?: number,
  ): { base: bigint; data: bigint; total: number; dataLength: number };
}

const PAGE = 4096;
/** The fake process's id: thread `PID` is its first thread. */
export const PID = 100;
const TABLE_AT = 0x7f00_0000_0000n;

/** Builds a fake process. */
export function fakeProcess(): FakeProcess {
  const fake = createFake({ pageSize: PAGE });
  const tableNames: string[] = [];
  const clock = new Map<number, number | null>();
  let tableBuffer: ArrayBuffer | undefined;
  return {
    fake,
    tableNames,
    clock,
    async thread(tid, start, wrap = (memory) => memory) {
      clock.set(tid, start);
      const memory: NativeMemory = wrap({
        ...fake.memory,
        sharedTable(name, length, existingOnly) {
          if (existingOnly && tableBuffer === undefined) return undefined;
          tableNames.push(name);
          tableBuffer ??= new ArrayBuffer(length);
          if (tableBuffer.byteLength !== length) {
            throw new Error("fake: the table was asked for at two lengths");
          }
          return TABLE_AT;
        },
        view: (address, length) =>
          address === TABLE_AT
            ? tableBuffer!
            : fake.memory.view(address, length),
        threadId: () => tid,
        processId: () => PID,
        threadTicks: (of) => clock.has(of) ? clock.get(of)! : null,
        threadStart: (of) => clock.has(of) ? clock.get(of)! : null,
      });
      const table = await fresh<ProcessTable>([
        "_process_table.ts",
        "_quarantine.ts",
        "_intrinsics.ts",
        "errors.ts",
      ]);
      return { tid, table, memory };
    },
    tableBytes: () => tableBuffer,
    end(tid) {
      clock.delete(tid);
    },
    region(pages = 1) {
      const dataLength = pages * PAGE;
      const total = dataLength + 2 * PAGE;
      const base = fake.memory.reserve(total);
      const data = base + BigInt(PAGE);
      fake.memory.commit(data, dataLength, true);
      fake.memory.fillRandom(data, dataLength);
      fake.memory.protect(data, dataLength, "noaccess");
      return { base, data, total, dataLength };
    },
  };
}

/**
 * A `wrap` for `FakeProcess.thread`: the thread's protection changes throw
 * while `when.on`, as a reclaimer that fails or is ended half way.
 */
export function protectFails(
  when: { on: boolean },
): (memory: NativeMemory) => NativeMemory {
  return (memory) => ({
    ...memory,
    protect(address, length, protection) {
      if (when.on) throw new Error("fake: mprotect refused");
      memory.protect(address, length, protection);
    },
  });
}
