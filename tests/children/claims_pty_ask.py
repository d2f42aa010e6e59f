"""Runs a command on a new pseudo-terminal and answers one question:
once the terminal shows <cue>, waits half a second and types <keys>.
Prints everything the terminal showed.

The wait is for Deno's permission prompt, which discards input typed
before it reads (so that keys typed ahead cannot answer it): keys sent
the moment the question shows can be thrown away. tests/children/input_pty.py
types at once, which suits secmem's own prompt.

Usage: python3 claims_pty_ask.py <cue> <keys as hex> -- <command...>
Exit status: the command's. Used by tests/claims_prompt_test.ts.
"""

import os
import pty
import select
import sys
import time

cue = sys.argv[1].encode()
keys = bytes.fromhex(sys.argv[2])
command = sys.argv[sys.argv.index("--") + 1:]

pid, terminal = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown = b""
answered = False
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
    if not answered and cue in shown:
        time.sleep(0.5)
        os.write(terminal, keys)
        answered = True
else:
    os.kill(pid, 9)

_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
