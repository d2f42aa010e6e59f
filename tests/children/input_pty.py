"""Runs a command on a new pseudo-terminal, waits until it shows a prompt,
types the given keys, and prints everything the terminal showed.

Usage: python3 input_pty.py <prompt> <keys as hex> <command...>
Exit status: the command's. Used by tests/input_prompt_test.ts.
"""

import os
import pty
import select
import sys
import time

prompt = sys.argv[1].encode()
keys = bytes.fromhex(sys.argv[2])
command = sys.argv[3:]

pid, terminal = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown = b""
typed = False
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
    if not typed and prompt in shown:
        # The prompt is written after echo is turned off, so the keys
        # typed now are never echoed.
        os.write(terminal, keys)
        typed = True
else:
    os.kill(pid, 9)

_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
