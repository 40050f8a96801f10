"""The `slaclock` command. Each subcommand lives in `slaclock.commands.<name>` and is imported only
when used, so `slaclock validate` does not pay for boto3."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slaclock", description="SLA engine for support teams.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="check a configuration file; exit 0 if valid, 1 with every error")
    v.add_argument("--config", required=True, metavar="FILE", help="YAML or JSON configuration")
    v.set_defaults(module="validate")

    r = sub.add_parser("replay", help="replay past events offline and write SLA reports")
    r.add_argument("--config", required=True, metavar="FILE")
    r.add_argument("--events", required=True, metavar="FILE", help="JSON Lines or a JSON array")
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

    m = sub.add_parser("merge", help="combine `slaclock replay --shard` outputs into the three reports")
    m.add_argument("dirs", nargs="+", metavar="DIR", help="the shards' output directories, every shard once")
    m.add_argument("--out", required=True, metavar="DIR")
    m.add_argument("--quiet", action="store_true", help="no summary")
    m.set_defaults(module="merge")

    c = sub.add_parser("config", help="the configuration deployed in the account")
    csub = c.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    push = csub.add_parser("push", help="validate a configuration and upload it (an invalid one is refused)")
    push.add_argument("--file", required=True, metavar="FILE")
    push.set_defaults(module="config_push")
    show = csub.add_parser("show", help="print the configuration in force")
    show.set_defaults(module="config_show")

    loc = sub.add_parser("local", help="the local embedded stack (no AWS account)")
    lsub = loc.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    up = lsub.add_parser("up", help="start the stack in the foreground (Ctrl-C stops it)")
    up.add_argument("--port", type=int, default=8787)
    up.add_argument("--speed", type=float, default=1.0, help="how much faster than real time the clock runs")
    up.add_argument("--config", metavar="FILE", help="configuration (default: examples/sla.yaml)")
    up.set_defaults(module="local_up")
    em = lsub.add_parser("emails", help="list the e-mails the running stack captured")
    em.add_argument("--port", type=int, default=8787)
    em.set_defaults(module="local_emails")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = importlib.import_module(f"slaclock.commands.{args.module}")
    code: int = command.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
