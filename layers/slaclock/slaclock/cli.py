"""The `slaclock` command. Each subcommand lives in `slaclock.commands.<name>` and is imported only
when used, so `slaclock validate` does not pay for boto3.

``slaclock local up|emails`` belong to the local embedded stack, a development package of its own
(`slaclock_local`, infra/local/, installed by ``make demo`` / ``make test``), never shipped in the Lambda
layer: without it they exit 2 saying how to install it."""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Sequence


def _port(text: str) -> int:
    """A TCP port for 127.0.0.1: 1..65535 (0 lets the system pick a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0-65535; 0 picks a free one)")
    return port


def _speed(text: str) -> float:
    """How many virtual seconds pass per real second: a finite number above 0."""
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (speed > 0 and math.isfinite(speed)):
        raise argparse.ArgumentTypeError(
            f"{text} must be a finite number above 0 (1 = real time, 60 = 1 h/min)"
        )
    return speed


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slaclock", description="SLA engine for support teams.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="check a configuration file; exit 0 if valid, 1 with every error")
    v.add_argument("--config", required=True, metavar="FILE", help="YAML or JSON configuration")
    v.set_defaults(module="validate")

    r = sub.add_parser("replay", help="replay past events offline and write SLA reports")
    r.add_argument("--config", required=True, metavar="FILE")
    r.add_argument("--events", required=True, metavar="FILE", help="JSON Lines or a JSON array ('-': stdin)")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument("--now", metavar="T", help="ISO 8601 instant (default: the latest event)")
    r.add_argument("--group-by", default="", metavar="FIELDS", help="department,agent,level,metric")
    r.add_argument(
        "--sort",
        default="",
        metavar="KEYS",
        help="sort the SLA log (in memory) by requester,ticket,start,department,agent,level,due,stopped,"
        "remaining,overdue; '-' before a key for descending (default: ticket start order, streamed)",
    )
    r.add_argument("--strict", action="store_true", help="a malformed line is fatal")
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument(
        "--workers", type=int, metavar="N", help="processes replaying tickets (default: the machine's cores)"
    )
    r.add_argument(
        "--shard",
        metavar="K/N",
        help="replay only shard K (0..N-1) of the tickets into DIR, for `slaclock merge` (JSON Lines input)",
    )
    r.set_defaults(module="replay")

    i = sub.add_parser("import", help="a helpdesk's history export -> canonical events (JSON Lines)")
    i.add_argument(
        "provider",
        metavar="PROVIDER",
        help="zendesk (ticket audits), jira (issues with changelog), helpscout (conversations)",
    )
    i.add_argument("files", nargs="+", metavar="FILE", help="API response pages: JSON or JSON Lines")
    i.add_argument(
        "--config", metavar="FILE", help="configuration whose source gives options and ticket_prefix"
    )
    i.add_argument(
        "--source", metavar="NAME", help="the source in --config (default: its one PROVIDER source)"
    )
    i.add_argument(
        "--out", default="-", metavar="FILE", help="events file, or - for standard output (default)"
    )
    i.add_argument("--strict", action="store_true", help="a malformed record is fatal")
    i.add_argument("--quiet", action="store_true", help="no summary on stderr")
    i.set_defaults(module="history_import")

    m = sub.add_parser("merge", help="combine `slaclock replay --shard` outputs into the three reports")
    m.add_argument("dirs", nargs="+", metavar="DIR", help="the shards' output directories, every shard once")
    m.add_argument("--out", required=True, metavar="DIR")
    m.add_argument("--quiet", action="store_true", help="no summary")
    m.set_defaults(module="merge")

    d = sub.add_parser("diff", help="compare two policies over the same events (per-ticket changes)")
    d.add_argument("--config", action="append", required=True, metavar="FILE", help="twice: old, then new")
    d.add_argument("--events", required=True, metavar="FILE", help="JSON Lines or a JSON array")
    d.add_argument("--out", required=True, metavar="DIR")
    d.add_argument("--now", metavar="T", help="ISO 8601 instant (default: the latest event)")
    d.add_argument("--group-by", default="", metavar="FIELDS", help="department,agent,level,metric")
    d.add_argument("--strict", action="store_true", help="a malformed line is fatal")
    d.add_argument("--quiet", action="store_true", help="no summary")
    d.set_defaults(module="diff")

    c = sub.add_parser("config", help="the configuration deployed in the account")
    csub = c.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    push = csub.add_parser("push", help="validate a configuration and upload it (an invalid one is refused)")
    push.add_argument("--file", required=True, metavar="FILE")
    push.set_defaults(module="config_push")
    show = csub.add_parser("show", help="print the configuration in force")
    show.set_defaults(module="config_show")
    for action in (push, show):
        action.add_argument(
            "--stack", metavar="NAME", help="the stack (default: $SLACLOCK_STACK, else slaclock)"
        )
        action.add_argument(
            "--region", metavar="REGION", help="its Region (default: $AWS_REGION, $AWS_DEFAULT_REGION)"
        )

    loc = sub.add_parser("local", help="the local embedded stack (no AWS account)")
    lsub = loc.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    up = lsub.add_parser("up", help="start the stack in the foreground (Ctrl-C stops it)")
    up.add_argument("--port", type=_port, default=8787)
    up.add_argument("--speed", type=_speed, default=1.0, help="how much faster than real time the clock runs")
    up.add_argument("--config", metavar="FILE", help="configuration (default: examples/sla.yaml)")
    up.set_defaults(module="slaclock_local.local_up")
    em = lsub.add_parser("emails", help="list the e-mails the running stack captured")
    em.add_argument("--port", type=_port, default=8787)
    em.set_defaults(module="slaclock_local.local_emails")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status. Ctrl-C anywhere is a one-line stop with status 130 (128 +
    SIGINT, what shells report), never a traceback."""
    args = _parser().parse_args(argv)
    name = args.module if "." in args.module else f"slaclock.commands.{args.module}"
    try:
        try:
            command = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if (err.name or "").split(".")[0] != "slaclock_local":
                raise
            print(
                "slaclock local: the local embedded stack is not installed (it is a development package, "
                "not part of slaclock): run `make demo` in a clone, or `pip install -e infra/local`",
                file=sys.stderr,
            )
            return 2
        code: int = command.run(args)
    except KeyboardInterrupt:
        print("\nslaclock: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
