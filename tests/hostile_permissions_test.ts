/**
 * The runtime's permission model (issue 23, class 5): FFI can open any
 * file, but `fromFile` must not read what the program was not allowed to.
 * A Deno child with --allow-ffi and no --allow-read, and a Node child
 * under --permission with --allow-ffi and no read grant for the file, each
 * get `PERMISSION_DENIED` naming the flag, and never the bytes; granted
 * the file, both read it. Bun has no permission model: it reads. The fake
 * native layer shows the runtime is asked before anything is opened.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SecretBuffer } from "../mod.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { runtime, test } from "./_harness.ts";
import { childScript, runChild } from "./_child.ts";
import { createFake } from "./_fake_native.ts";
import {
  describeChild,
  env,
  lastJson,
  removeDir,
  tempDir,
} from "./_forensics.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { linuxOnly } from "./_platform.ts";

interface Outcome {
  entry: string;
  code?: string;
  message?: string;
  size?: number;
}

const MARKER = "permission-test-marker-5f3a9c";
const script = childScript("hostile_permissions.ts");
// The repository: the sources the child imports.
const repo = dirname(dirname(dirname(fileURLToPath(script))));

/** The runtime's own executable. */
function execPath(): string {
  const host = globalThis as unknown as {
    Deno?: { execPath(): string };
    process: { execPath: string };
  };
  return host.Deno?.execPath() ?? host.process.execPath;
}

/** The command line for a child of this runtime under permission flags. */
function command(grant: string | undefined): string[] {
  const wrapper = (env("SECMEM_TEST_EXEC_WRAPPER") ?? "").split(" ").filter(
    (word) => word !== "",
  );
  const path = fileURLToPath(script);
  if (runtime === "deno") {
    return [
      ...wrapper,
      execPath(),
      "run",
      "--allow-ffi",
      "--no-prompt",
      "--quiet",
      ...(grant === undefined ? [] : [`--allow-read=${grant}`]),
      path,
    ];
  }
  // Node: the permission model on; the sources may be read, FFI used.
  return [
    ...wrapper,
    execPath(),
    "--disable-warning=ExperimentalWarning",
    "--permission",
    "--allow-ffi",
    `--allow-fs-read=${repo}`,
    ...(grant === undefined ? [] : [`--allow-fs-read=${grant}`]),
    path,
  ];
}

/** Runs the child on a fresh file holding the marker. */
function readUnder(grant: "none" | "file"): Outcome[] {
  const dir = tempDir("perm");
  try {
    const file = join(dir, "key");
    writeFileSync(file, MARKER);
    const result = runChild(script, [file], {
      commandOverride: [...command(grant === "file" ? file : undefined), file],
    });
    assert.equal(result.status, 0, describeChild(result));
    assert(
      !result.stdout.includes(MARKER) && !result.stderr.includes(MARKER),
      "the file's bytes never reach the output",
    );
    const { outcomes } = lastJson<{ outcomes: Outcome[] }>(result.stdout);
    for (const outcome of outcomes) {
      if (grant === "none") {
        assert.equal(
          outcome.code,
          "PERMISSION_DENIED",
          JSON.stringify(outcome),
        );
        assert.equal(outcome.size, undefined);
        const flag = runtime === "deno" ? "--allow-read=" : "--allow-fs-read=";
        assert(
          outcome.message!.includes(`${flag}${file}`),
          `names the flag: ${outcome.message}`,
        );
      } else {
        assert.equal(outcome.size, MARKER.length, JSON.stringify(outcome));
      }
    }
    assert.equal(outcomes.length, 3);
    return outcomes;
  } finally {
    removeDir(dir);
  }
}

const permissionModel = runtime === "bun"
  ? "Bun has no permission model (see the Bun test below)"
  : linuxOnly;

test(
  "a file the program may not read is refused with PERMISSION_DENIED, naming the flag",
  () => void readUnder("none"),
  { skip: permissionModel },
);

test(
  "the same file, granted, is read",
  () => void readUnder("file"),
  { skip: permissionModel },
);

test(
  "the library's own /proc/self reads need no grant; the machine's settings are asked for",
  () => {
    // The doctor with no read grant at all: its self-test reads
    // /proc/self/smaps, maps, pagemap and mem, and passes; the machine's
    // settings (/proc/swaps) are reported unread, with the flag.
    const doctor = join(repo, "doctor.ts");
    const argv = command(undefined);
    const result = runChild(doctor, [], {
      commandOverride: [...argv.slice(0, -1), doctor, "--json"],
    });
    assert.equal(result.status, 0, describeChild(result));
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      checks: { id: string; status: string; detail: string }[];
    };
    const check = (id: string) => report.checks.find((c) => c.id === id)!;
    assert.equal(report.ok, true);
    assert.equal(check("scan").status, "pass", check("scan").detail);
    assert.equal(check("unmapped").status, "pass");
    const flag = runtime === "deno" ? "--allow-read=" : "--allow-fs-read=";
    assert(
      check("swap").detail.includes(`${flag}/proc/swaps`),
      check("swap").detail,
    );
  },
  { skip: permissionModel },
);

test(
  "Bun has no permission model: fromFile reads what the process can",
  async () => {
    const dir = tempDir("perm");
    try {
      const file = join(dir, "key");
      writeFileSync(file, MARKER);
      using secret = await SecretBuffer.fromFile(file);
      assert.equal(secret.size, MARKER.length);
    } finally {
      removeDir(dir);
    }
  },
  { skip: runtime === "bun" ? linuxOnly : "runs under Bun only" },
);

test(
  "the runtime is asked before the path is opened, by every file entry",
  async () => {
    const fake = createFake({ readRefused: ["/run/secrets/key"] });
    useNativeForTesting(fake.memory);
    try {
      assertThrowsCode(
        () => SecretBuffer.fromFileSync("/run/secrets/key"),
        "PERMISSION_DENIED",
      );
      await assertRejectsCode(
        () => SecretBuffer.fromFile(new URL("file:///run/secrets/key")),
        "PERMISSION_DENIED",
      );
      const asked = fake.calls.filter((c) => c.startsWith("readPermission"));
      assert.deepEqual(asked, [
        "readPermission:/run/secrets/key",
        "readPermission:/run/secrets/key",
      ]);
      assert.equal(fake.mapped(), 0, "nothing mapped");
    } finally {
      useNativeForTesting(undefined);
    }
  },
);

test(
  "Node's permission model without --allow-ffi: the first allocation is FFI_UNAVAILABLE naming the flag; with it, it allocates, and node:ffi warns that it is experimental",
  () => {
    // In the repository (the only place the child may read), named per run.
    const path = join(
      repo,
      "tests",
      `.permission-no-ffi-${Date.now()}-${
        Math.random().toString(36).slice(2)
      }.mjs`,
    );
    writeFileSync(
      path,
      `import { SecretBuffer } from ${JSON.stringify(join(repo, "mod.ts"))};
try {
  SecretBuffer.random(32).destroy();
  console.log("allocated");
} catch (error) {
  console.log(error.code, error.message);
}
`,
    );
    try {
      const run = (extra: string[]) =>
        runChild(childScript("hostile_permissions.ts"), [], {
          commandOverride: [
            execPath(),
            "--disable-warning=ExperimentalWarning",
            "--permission",
            `--allow-fs-read=${repo}`,
            ...extra,
            path,
          ],
        });
      const refused = run([]);
      assert.match(
        refused.stdout,
        /^FFI_UNAVAILABLE .*--allow-ffi/m,
        refused.stderr,
      );
      const allowed = run(["--allow-ffi"]);
      assert.equal(allowed.stdout.trim(), "allocated", allowed.stderr);
      // Without --disable-warning, node:ffi says it is experimental (the README
      // tells users how to hide it).
      const warned = runChild(childScript("hostile_permissions.ts"), [], {
        commandOverride: [
          execPath(),
          "--permission",
          `--allow-fs-read=${repo}`,
          "--allow-ffi",
          path,
        ],
      });
      assert.equal(warned.stdout.trim(), "allocated", warned.stderr);
      assert.match(
        warned.stderr,
        /ExperimentalWarning: FFI is an experimental feature/,
      );
    } finally {
      removeDir(path);
    }
  },
  { skip: linuxOnly || (runtime !== "node" && "Node's permission model") },
);

test(
  "Deno's ffi permission revoked after start: new buffers, views and work areas are FFI_UNAVAILABLE and leave nothing reserved or locked; a buffer made before is still read and destroyed",
  () => {
    const result = runChild(childScript("revoked_ffi.ts"), []);
    assert.equal(result.status, 0, describeChild(result));
    const report = lastJson<{
      codes: Record<string, string>;
      seen: number;
      left: Record<string, number>;
      lockedBefore: number;
      lockedAfter: number;
      readAgain: boolean;
      state: string;
    }>(result.stdout);
    for (const [name, code] of Object.entries(report.codes)) {
      assert.equal(code, "FFI_UNAVAILABLE", `${name}: ${code}`);
    }
    assert.equal(Object.keys(report.codes).length, 6);
    assert(report.seen > 0, "the reservations are counted");
    assert.deepEqual(
      Object.values(report.left),
      [0, 0, 0, 0, 0, 0],
      `reservations left: ${JSON.stringify(report.left)}`,
    );
    assert(Number.isFinite(report.lockedBefore), "VmLck was read");
    assert.equal(report.lockedAfter, report.lockedBefore, "VmLck (KiB)");
    assert(report.readAgain, "the buffer made before reads its bytes");
    assert.equal(report.state, "destroyed");
  },
  { skip: runtime === "deno" ? linuxOnly : "Deno's permissions" },
);
