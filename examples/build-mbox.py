#!/usr/bin/env python3
"""Rebuild examples/sample.mbox from examples/inbox/*.eml (mboxrd format).

Usage: python3 examples/build-mbox.py [INBOX_DIR] [OUTPUT_MBOX]

- Messages are written in file-name order (001-..., 002-..., ...).
- Each message is preceded by a "From SENDER DATE" separator line: SENDER is the
  address in the From header (MAILER-DAEMON when there is none), DATE is the Date
  header converted to UTC in asctime form ("Sun Nov  1 08:14:00 2026").
- mboxrd quoting: every line matching /^>*From / gets one more leading '>'.
- Each message ends with a newline followed by one empty line.
- The .eml files are handled as bytes, so 8-bit messages (ISO-8859-1, UTF-8)
  are copied unchanged. Standard library only; the output is deterministic.
"""
import email.utils
import re
import sys
from datetime import timezone
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

HERE = Path(__file__).resolve().parent
FROM_LINE = re.compile(rb"^>*From ")


def envelope(raw: bytes) -> bytes:
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    _, sender = email.utils.parseaddr(str(headers.get("From", "")))
    if not sender or " " in sender:
        sender = "MAILER-DAEMON"
    try:
        when = email.utils.parsedate_to_datetime(str(headers["Date"])).astimezone(timezone.utc)
    except (TypeError, ValueError, KeyError):
        raise SystemExit(f"build-mbox: message has no usable Date header")
    stamp = f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"
    return f"From {sender} {stamp}".encode("ascii")


def mboxrd_body(raw: bytes) -> bytes:
    out = []
    for line in raw.split(b"\n"):
        out.append(b">" + line if FROM_LINE.match(line) else line)
    body = b"\n".join(out)
    if not body.endswith(b"\n"):
        body += b"\n"
    return body


def main(argv):
    inbox = Path(argv[1]) if len(argv) > 1 else HERE / "inbox"
    target = Path(argv[2]) if len(argv) > 2 else HERE / "sample.mbox"
    files = sorted(inbox.glob("*.eml"))
    if not files:
        print(f"build-mbox: no .eml files in {inbox}", file=sys.stderr)
        return 1
    chunks = []
    for path in files:
        raw = path.read_bytes()
        if b"\r\n" in raw:
            raw = raw.replace(b"\r\n", b"\n")
        try:
            chunks.append(envelope(raw) + b"\n" + mboxrd_body(raw) + b"\n")
        except SystemExit as exc:
            print(f"{exc} ({path.name})", file=sys.stderr)
            return 1
    target.write_bytes(b"".join(chunks))
    print(f"build-mbox: wrote {len(files)} messages to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
