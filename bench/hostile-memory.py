#!/usr/bin/env python3
"""Peak memory and time on the largest cases of the hostile corpus (tests/hostile/cases.json),
for the native CLI (`validate FILE --format json`) and the npm package in Node
(`validateCreateJson(text)` on the file's text), each in a fresh process, with a 1 KB valid
connector as the baseline of each. Usage: bench/hostile-memory.py CLI_BINARY
A run that fails prints FAILED with its reason; the script itself always finishes."""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LARGEST = 4  # the cases with the most bytes


def build(parts):
    out = bytearray()
    for p in parts:
        if "hex" in p:
            out += bytes.fromhex(p["hex"].replace(" ", ""))
        else:
            out += (p["text"] * p.get("times", 1)).encode()
    return bytes(out)


def measure(argv):
    """(peak RSS in MiB, seconds, exit code) of one fresh process, from wait4's rusage."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        return None, 0.0, f"cannot start: {e}"
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return usage.ru_maxrss / 1024, seconds, code


NODE_SCRIPT = """
const { readFileSync } = require('node:fs');
const kc = require(process.argv[1]);
const r = kc.validateCreateJson(readFileSync(process.argv[2], 'utf8'));
if (typeof r !== 'object' || r.valid === undefined) process.exit(9);
process.exit(r.valid ? 0 : 1);
"""


def write_cases(tmp):
    """Writes the baseline and the largest cases to files, in a child process, so this process
    stays small (a forked child starts with its parent's resident pages)."""
    with open(os.path.join(ROOT, "tests/hostile/cases.json")) as f:
        cases = json.load(f)["cases"]
    sizes = []
    for c in cases:
        size = 0
        for p in c["parts"]:
            size += len(bytes.fromhex(p["hex"].replace(" ", ""))) if "hex" in p else len(p["text"].encode()) * p.get("times", 1)
        sizes.append(size)
    order = sorted(range(len(cases)), key=lambda i: sizes[i], reverse=True)[:LARGEST]
    base = next(i for i, c in enumerate(cases) if c["name"] == "duplicate keys")
    rows = []
    for i in [base] + order:
        path = os.path.join(tmp, f"case-{i}.json")
        pid = os.fork()
        if pid == 0:  # the child builds and writes one case, then exits
            with open(path, "wb") as f:
                f.write(build(cases[i]["parts"]))
            os._exit(0)
        os.waitpid(pid, 0)
        label = "baseline: a small connector" if i == base else cases[i]["name"]
        rows.append((label, path, sizes[i], cases[i]["valid"]))
    return rows


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release-native/kinesis-connector")
    pkg = os.path.join(ROOT, "pkg", "index.cjs")
    print("hostile input: peak RSS and time of one fresh process per run")
    print(f"{'case':<36} {'bytes':>11} {'CLI MiB':>8} {'CLI s':>6} {'Node MiB':>9} {'Node s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path, size, valid in write_cases(tmp):
            want = 0 if valid else 1
            cells = []
            for argv in ([cli, "validate", path, "--format", "json"],
                         ["node", "-e", NODE_SCRIPT, pkg, path]):
                rss, secs, code = measure(argv)
                if rss is None or code != want:
                    cells.append(f"FAILED (exit {code})")
                else:
                    cells.append(f"{rss:8.1f} {secs:6.2f}")
            print(f"{label[:36]:<36} {size:>11} {cells[0]:>15} {cells[1]:>17}")


if __name__ == "__main__":
    main()
