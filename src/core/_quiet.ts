/**
 * Scopes the library opens for its own work (decoding into a buffer,
 * copying between buffers, a cipher over a key). Their views reach only
 * library code, so they do not make a buffer "exposed" in the process-wide
 * table (`_process_table.ts`): an ended Worker's buffers that only the
 * library ever looked into are unmapped rather than quarantined.
 *
 * Only the synchronous part of `fn` counts: when it returns, the count is
 * back, so caller code that runs later (after an await) is never quiet.
 * `fn` must call no caller code (no getter, no callback) while it runs.
 *
 * @module
 */

let depth = 0;

/** Runs `fn`, a synchronous piece of library work over guarded views. */
export function quietly<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/** Whether the view being handed out now goes to library code only. */
export function isQuiet(): boolean {
  return depth > 0;
}
