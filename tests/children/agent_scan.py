"""Counts copies of needles in another process's memory (run as root).

usage: agent_scan.py PID readable|all HEX [HEX...]
Also names where copies of the first needle are (address, mapping).
Reads only pages /proc/PID/pagemap marks present. `readable` skips
mappings without read permission: a guarded buffer at rest is PROT_NONE,
so that count is "copies outside guarded pages". `all` reads every mapping
(root may read PROT_NONE pages through /proc/PID/mem). Prints one JSON line.
"""
import json, os, sys

pid, mode, needles = int(sys.argv[1]), sys.argv[2], [bytes.fromhex(h) for h in sys.argv[3:]]
page = os.sysconf("SC_PAGE_SIZE")
counts = [0] * len(needles)
where = []
scanned = 0
longest = max(len(n) for n in needles)
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem, open(f"/proc/{pid}/pagemap", "rb", 0) as pagemap:
    for line in maps:
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if mode == "readable" and fields[1][0] != "r":
            continue
        if len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
            continue
        pagemap.seek(start // page * 8)
        entries = pagemap.read((end - start) // page * 8)
        run_start = None
        runs = []
        for i in range(0, len(entries), 8):
            present = entries[i + 7] & 0x80 or entries[i + 7] & 0x40
            addr = start + (i // 8) * page
            if present and run_start is None:
                run_start = addr
            elif not present and run_start is not None:
                runs.append((run_start, addr)); run_start = None
        if run_start is not None:
            runs.append((run_start, end))
        for a, b in runs:
            try:
                mem.seek(a)
                data = mem.read(b - a)
            except OSError:
                continue
            scanned += len(data)
            for k, n in enumerate(needles):
                at = data.find(n)
                while at >= 0:
                    counts[k] += 1
                    if k == 0:
                        where.append(f"{a + at:x} in {fields[0]} {fields[1]} {' '.join(fields[5:])}")
                    at = data.find(n, at + 1)
print(json.dumps({"counts": counts, "scanned": scanned, "where": where}))
