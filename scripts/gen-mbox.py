#!/usr/bin/env python3
"""Writes a large mboxrd file for benchmarks from real messages (shared spam-ham corpus and the
bundled sample inbox), giving every copy its own Message-ID so each one is a distinct message.

usage: gen-mbox.py OUT --size 1G | --count 100000  [--data ../shared/data] [--quiet]

The shared corpus is --data, else $MAILROOM_SHARED_DATA, else the first of ../shared/data and
../../shared/data (from a worktree) that has it; without it the script stops rather than repeat
the sample inbox alone (whose messages are a quarter the size, which would change what a figure
means).
"""
import argparse, os, re, sys

CORPUS = ("spam-ham/easy-ham-1", "spam-ham/hard-ham-1", "spam-ham/spam-1")

def corpus_files(data):
    paths = []
    for sub in CORPUS:
        d = os.path.join(data, sub)
        if os.path.isdir(d):
            paths += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return paths

def sources(data, root):
    paths = corpus_files(data)
    inbox = os.path.join(root, "examples", "inbox")
    paths += [os.path.join(inbox, f) for f in sorted(os.listdir(inbox)) if f.endswith(".eml")]
    msgs = []
    for p in paths:
        with open(p, "rb") as f:
            b = f.read()
        if b.startswith(b"From "):          # drop an existing envelope line
            b = b.split(b"\n", 1)[1] if b"\n" in b else b""
        if b.strip() and not os.path.basename(p).startswith("LICENSE"):
            msgs.append(b.replace(b"\r\n", b"\n"))
    return msgs

MID = re.compile(rb"^message-id:.*$", re.I | re.M)
FROM_LINE = re.compile(rb"^(>*From )", re.M)

def parse_size(s):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(s[:-1]) * units[s[-1].upper()]) if s[-1].upper() in units else int(s)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size")
    ap.add_argument("--count", type=int)
    ap.add_argument("--quiet", action="store_true", help="no summary line (errors still go to stderr)")
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap.add_argument("--data", default=os.environ.get("MAILROOM_SHARED_DATA"))
    a = ap.parse_args()
    candidates = [a.data] if a.data else [os.path.join(root, "..", "shared", "data"), os.path.join(root, "..", "..", "shared", "data")]
    data = next((d for d in candidates if corpus_files(d)), None)
    if data is None:
        sys.exit("gen-mbox.py: no spam-ham corpus in " + " or ".join(candidates) + " (give --data DIR)")
    limit_bytes = parse_size(a.size) if a.size else None
    limit_count = a.count
    if not limit_bytes and not limit_count:
        ap.error("give --size or --count")
    msgs = sources(data, root)
    if not msgs:
        sys.exit("no source messages found under " + data)
    written = n = 0
    with open(a.out, "wb", buffering=1 << 20) as out:
        while True:
            for m in msgs:
                if (limit_bytes and written >= limit_bytes) or (limit_count and n >= limit_count):
                    if not a.quiet:
                        print(f"{a.out}: {n} messages, {written / (1 << 20):.1f} MiB", file=sys.stderr)
                    return
                mid = b"Message-ID: <bench-%d@mailroom.bench>" % n
                body = MID.sub(mid, m, count=1) if MID.search(m) else mid + b"\n" + m
                body = FROM_LINE.sub(rb">\1", body)
                if not body.endswith(b"\n"):
                    body += b"\n"
                chunk = b"From bench@mailroom.bench Sat Nov  1 10:00:00 2026\n" + body + b"\n"
                out.write(chunk)
                written += len(chunk)
                n += 1

if __name__ == "__main__":
    main()
