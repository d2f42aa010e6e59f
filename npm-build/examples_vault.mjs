// The vault example against the age CLI, both ways: what vault seals, `age
// -d` opens; what `age -p` seals, vault opens. age asks for a passphrase on
// its terminal only, so it runs on a pty (tests/children/input_pty.py).
// Called by examples_check.mjs with its `run`, scratch folder and `check`.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const pty = fileURLToPath(
  new URL("../tests/children/input_pty.py", import.meta.url),
);

/** Runs `command` on a pty, typing `passphrase` at each prompt. */
function onPty(prompts, passphrase, command) {
  const keys = Buffer.from(passphrase + "\n").toString("hex");
  const child = spawnSync(
    "python3",
    [pty, ...prompts.flatMap((p) => [p, keys]), "--", ...command],
    { encoding: "utf8", timeout: 180_000 },
  );
  return { status: child.status, shown: `${child.stdout}${child.stderr}` };
}

export function checkVault({ run, work, check }) {
  const passphrase = "correct horse battery staple";
  writeFileSync(join(work, "pass.txt"), passphrase + "\n");
  for (const size of [0, 1, 65536, 200_000]) {
    const plain = randomBytes(size);
    writeFileSync(join(work, "plain.bin"), plain);
    const sealed = join(work, `sealed-${size}.age`);
    const seal = run("vault.ts", [
      "seal",
      join(work, "plain.bin"),
      sealed,
      "--passphrase-file",
      join(work, "pass.txt"),
    ]);
    const opened = join(work, `opened-${size}.bin`);
    const age = seal.status === 0
      ? onPty(["passphrase"], passphrase, ["age", "-d", "-o", opened, sealed])
      : { status: null, shown: "" };
    check(
      `vault seals ${size} bytes that age -d opens`,
      seal.status === 0 && age.status === 0 &&
        // age creates its output at the first byte: none for 0 bytes.
        (existsSync(opened) ? readFileSync(opened) : Buffer.alloc(0)).equals(
          plain,
        ),
      `${seal.stdout}${seal.stderr}${age.shown}`,
    );
    const theirs = join(work, `theirs-${size}.age`);
    const ageSeal = onPty(["passphrase", "Confirm"], passphrase, [
      "age",
      "-p",
      "-o",
      theirs,
      join(work, "plain.bin"),
    ]);
    const open = ageSeal.status === 0
      ? run("vault.ts", [
        "open",
        theirs,
        "--passphrase-file",
        join(work, "pass.txt"),
      ], {
        encoding: "buffer",
      })
      : { status: null, stdout: Buffer.alloc(0), stderr: "" };
    check(
      `vault opens ${size} bytes that age -p sealed`,
      ageSeal.status === 0 && open.status === 0 &&
        Buffer.from(open.stdout).equals(plain),
      `${ageSeal.shown}${open.stderr}`,
    );
  }
  writeFileSync(join(work, "wrong.txt"), "not the passphrase\n");
  const wrong = run("vault.ts", [
    "open",
    join(work, "theirs-1.age"),
    "--passphrase-file",
    join(work, "wrong.txt"),
  ]);
  check(
    "vault refuses a wrong passphrase with a message, not a stack trace",
    wrong.status === 1 && /^vault: /.test(wrong.stderr),
    wrong.stderr,
  );
}
