"""Runs a command on a new pseudo-terminal, waits until it shows each
prompt in turn, types the keys given for it, and prints everything the
terminal showed.

--settle waits half a second after a prompt shows before typing: Deno's
permission prompt discards keys typed before it reads (so that keys typed
ahead cannot answer it). secmem's own prompt takes them at once.

Usage: python3 input_pty.py [--settle] <prompt> <keys as hex> [<prompt> <keys>...] -- <command...>
Exit status: the command's. Driven by onTerminal in tests/_tools.ts.
"""

import os
import pty
import select
import sys
import time

settle = sys.argv[1] == "--settle"
split = sys.argv.index("--")
pairs = sys.argv[(2 if settle else 1):split]
steps = [(pairs[i].encode(), bytes.fromhex(pairs[i + 1])) for i in range(0, len(pairs), 2)]
command = sys.argv[split + 1:]

pid, terminal = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown = b""
seen = 0  # how much of the output earlier prompts have used up
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    ready, _, _ = select.select([terminal], [], [], 0.2)
    if ready:
        try:
            data = os.read(terminal, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        shown += data
    if steps and steps[0][0] in shown[seen:]:
        # The prompt is written after echo is turned off, so the keys
        # typed now are never echoed.
        prompt, keys = steps.pop(0)
        seen = shown.index(prompt, seen) + len(prompt)
        if settle:
            time.sleep(0.5)
        os.write(terminal, keys)
else:
    os.kill(pid, 9)

_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
