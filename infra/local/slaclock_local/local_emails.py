"""`slaclock local emails [--port N]`: the e-mails a running local stack captured, oldest first.

Reads ``GET http://127.0.0.1:PORT/_local/emails`` (moto's SES v2 backend as the stack recorded it, with
the virtual instant each was sent at). Exit status: 0 listed (even none); 1 no stack answers there.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO


def fetch(port: int, timeout: float = 10) -> list[dict[str, Any]]:
    """The captured e-mails of the stack on 127.0.0.1:`port` (raises OSError if none answers)."""
    from slaclock_local.client import request

    status, raw = request("GET", f"http://127.0.0.1:{port}/_local/emails", timeout=timeout)
    if status != 200:
        raise OSError(f"GET /_local/emails answered {status}")
    emails: list[dict[str, Any]] = json.loads(raw).get("emails", [])
    return emails


def render(emails: list[dict[str, Any]], out: TextIO) -> None:
    if not emails:
        out.write("no e-mail captured yet\n")
        return
    for i, e in enumerate(emails, 1):
        out.write(f"{i:>3}. {e['sent_at']}  to {', '.join(e['to'])}\n     {e['subject']}\n")
        for line in (e.get("text") or "").splitlines()[1:]:
            if line.strip():
                out.write(f"       {line}\n")
    out.write(f"{len(emails)} e-mail{'s' if len(emails) != 1 else ''}\n")


def run(args: argparse.Namespace) -> int:
    try:
        emails = fetch(args.port)
    except (OSError, ValueError) as err:
        print(
            f"slaclock local emails: no local stack answers on 127.0.0.1:{args.port} ({err}); "
            "start one with `slaclock local up`",
            file=sys.stderr,
        )
        return 1
    render(emails, sys.stdout)
    return 0
