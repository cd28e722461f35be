#!/usr/bin/env python3
"""gcmsg --help and each command's --help must agree with docs/gcmsg.1:
every option in a help text is documented in the man page, and every option the man page
documents for that command (its .TP items) is in the help text.
Usage: help_matches_man.py GCMSG MANPAGE"""
import re
import subprocess
import sys

gcmsg, manpage = sys.argv[1], sys.argv[2]
man = open(manpage, encoding="utf-8").read().replace("\\-", "-")
OPT = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b")
failures = []


def section(start, end=None):
    """From the heading `start` to `end`, or else to the next .SS or .SH heading."""
    i = man.index(start)
    if end:
        return man[i:man.index(end, i + 1)]
    m = re.compile(r"^\.S[SH] ", re.M).search(man, i + 1)
    return man[i:m.start() if m else len(man)]


def documented(text):
    # options that start a .TP item (the option list of that section)
    found = set()
    for m in re.finditer(r"^\.TP\n(.*)$", text, re.M):
        found.update(OPT.findall(m.group(1)))
    return found


cases = [
    ([], section(".SH GLOBAL OPTIONS", ".SH COMMANDS")),
    (["inspect"], section(".SS inspect")),
    (["send"], section(".SS send")),
    (["bulk"], section(".SS bulk")),
    (["validate"], section(".SS validate")),
    (["responses"], section(".SS responses")),
    (["whoami"], section(".SS whoami")),
    (["login"], section(".SS login")),
    (["logout"], section(".SS logout")),
    (["outbox"], section(".SS outbox")),
    (["audit"], section(".SS audit")),
    (["stats"], section(".SS stats")),
    (["webhooks"], section(".SS webhooks")),
]
for sub, text in cases:
    out = subprocess.run([gcmsg] + sub + ["--help"], capture_output=True, text=True)
    if out.returncode != 0:
        failures.append(f"gcmsg {' '.join(sub)} --help exited {out.returncode}")
        continue
    in_help = set(OPT.findall(out.stdout))
    in_man = documented(text)
    name = " ".join(["gcmsg"] + sub + ["--help"])
    for o in sorted(in_help - set(OPT.findall(man))):
        failures.append(f"{name} shows {o}, which docs/gcmsg.1 does not document")
    for o in sorted(in_man - in_help):
        failures.append(f"docs/gcmsg.1 documents {o} for '{' '.join(sub) or 'global'}', but {name} lacks it")
    # each help line "  --opt ARG   text": the text must appear in the man page too
    for line in out.stdout.splitlines():
        m = re.match(r"^\s+(?:-\w, )?--[a-z-]+(?: [A-Z]+)?\s{2,}(.*)$", line)
        if m and m.group(1).strip() not in " ".join(man.split()):
            failures.append(f"{name}: '{m.group(1).strip()}' is not in docs/gcmsg.1")
for f in failures:
    print("FAIL:", f)
print("help and man page agree" if not failures else f"{len(failures)} mismatches")
sys.exit(1 if failures else 0)
