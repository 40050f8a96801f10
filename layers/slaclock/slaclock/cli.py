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
from collections.abc import Callable, Sequence


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


def _listed(flag: str, allowed: tuple[str, ...], signed: bool) -> Callable[[str], str]:
    """An argparse type for a comma-separated list of `allowed` names (each once; with `signed`, a
    leading ``-`` for descending). Errors name the flag, as the user typed it: ``--group-by: 'level'
    given twice``. Returns the text as given (the command parses it)."""

    def check(text: str) -> str:
        names = [s.strip() for s in text.split(",") if s.strip()]
        seen: set[str] = set()
        for name in names:
            bare = name[1:] if signed and name.startswith("-") else name
            if bare not in allowed:
                hint = " ('-' before a key for descending)" if signed else ""
                raise argparse.ArgumentTypeError(f"{name!r} is not one of {', '.join(allowed)}{hint}")
            if bare in seen:
                raise argparse.ArgumentTypeError(f"{bare!r} given twice")
            seen.add(bare)
        return text

    check.__name__ = flag  # argparse names the type in its messages
    return check


def _group_by(text: str) -> str:
    from slaclock.engine.vocabulary import GROUP_FIELDS

    return _listed("--group-by", GROUP_FIELDS, signed=False)(text)


def _sort(text: str) -> str:
    from slaclock.engine.reports import SORT_KEYS

    return _listed("--sort", SORT_KEYS, signed=True)(text)


def _version() -> str:
    from slaclock import __version__

    return f"slaclock {__version__}"


class _Version(argparse.Action):
    """``--version``: prints the version and exits 0 (the package is imported only then)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print slaclock's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(_version())
        parser.exit()


def _config_option(parser: argparse.ArgumentParser, required: bool, help: str) -> None:  # noqa: A002
    """``--config FILE``: the same name, metavar and meaning (a YAML or JSON configuration file) in
    every subcommand that reads one."""
    parser.add_argument("--config", required=required, metavar="FILE", help=help)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slaclock", description="SLA engine for support teams.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="check a configuration file; exit 0 if valid, 1 with every error")
    _config_option(v, True, "the configuration to check (YAML or JSON; '-': stdin)")
    v.set_defaults(module="validate")

    r = sub.add_parser("replay", help="replay past events offline and write SLA reports")
    _config_option(r, True, "the configuration to replay under (YAML or JSON)")
    r.add_argument("--events", required=True, metavar="FILE", help="JSON Lines or a JSON array ('-': stdin)")
    r.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory for the reports (created if missing); - writes only the SLA log, to standard output",
    )
    r.add_argument("--now", metavar="T", help="ISO 8601 instant (default: the latest event)")
    r.add_argument(
        "--group-by",
        type=_group_by,
        default="",
        metavar="FIELDS",
        help="group compliance by department,agent,level,metric (each once)",
    )
    r.add_argument(
        "--sort",
        type=_sort,
        default="",
        metavar="KEYS",
        help="sort the SLA log (in memory) by requester,ticket,start,department,agent,level,due,stopped,"
        "remaining,overdue; '-' before a key for descending, so -overdue puts the most overdue first "
        "(default: ticket start order, streamed)",
    )
    r.add_argument(
        "--time-zone",
        metavar="ZONE",
        help="add started_at_local, due_at_local, stopped_at_local to the SLA log: the instants in this "
        "IANA zone, e.g. Europe/Paris (the UTC columns stay)",
    )
    r.add_argument(
        "--durations",
        choices=("seconds", "human"),
        default="seconds",
        help="human: add business_time and remaining_time (26h 40m 05s) to the SLA log "
        "(default: seconds only)",
    )
    r.add_argument("--subject", action="store_true", help="add the ticket's subject to the SLA log")
    r.add_argument(
        "--utc",
        action="store_true",
        help="show instants on summary.html in UTC (default: each level's calendar time zone)",
    )
    r.add_argument(
        "--ticket-links",
        action="store_true",
        help="add ticket_url to the SLA log: the ticket in its helpdesk, from the sources' ticket_url",
    )
    r.add_argument(
        "--calendar-columns",
        action="store_true",
        help="add calendar and calendar_due_at to the SLA log: the calendar each clock counted in (the "
        "level's, or the one its calendar_from chose) and the due instant in that calendar's zone",
    )
    r.add_argument("--strict", action="store_true", help="a malformed line is fatal")
    r.add_argument(
        "--time-split",
        action="store_true",
        help="also write time_split.csv: each clock's business time by status, assignee and group "
        "(replayed in memory)",
    )
    r.add_argument(
        "--quiet", action="store_true", help="no progress bar (drawn on a terminal only) or summary"
    )
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
        help="zendesk (ticket audits), jira (issues with changelog), helpscout (conversations with"
        " threads), freshdesk (tickets with conversations), intercom (conversations with parts)",
    )
    i.add_argument(
        "files", nargs="+", metavar="FILE", help="API response pages: JSON or JSON Lines ('-': stdin)"
    )
    _config_option(i, False, "configuration whose source gives options and ticket_prefix")
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
    m.add_argument("--out", required=True, metavar="DIR", help="directory for the merged reports")
    m.add_argument("--quiet", action="store_true", help="no summary")
    m.set_defaults(module="merge")

    d = sub.add_parser("diff", help="compare two policies over the same events (per-ticket changes)")
    d.add_argument("--config", action="append", required=True, metavar="FILE", help="twice: old, then new")
    d.add_argument("--events", required=True, metavar="FILE", help="JSON Lines or a JSON array")
    d.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="output directory (created; changes.csv, compliance_diff.csv, notices_diff.csv, diff.html)",
    )
    d.add_argument("--now", metavar="T", help="ISO 8601 instant (default: the latest event)")
    d.add_argument("--group-by", default="", metavar="FIELDS", help="department,agent,level,metric")
    d.add_argument("--strict", action="store_true", help="a malformed line is fatal")
    d.add_argument("--quiet", action="store_true", help="no summary")
    d.set_defaults(module="diff")

    c = sub.add_parser("config", help="the configuration deployed in the account")
    csub = c.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    push = csub.add_parser("push", help="validate a configuration and upload it (an invalid one is refused)")
    push.add_argument(
        "--config",
        "--file",
        dest="config",
        required=True,
        metavar="FILE",
        help="the configuration to upload (YAML or JSON; '-': stdin); --file is the former name",
    )
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

    t = sub.add_parser("ticket", help="one ticket's SLA timeline: events, level decisions, clocks, notices")
    t.add_argument("ticket_id", metavar="ID", help="the ticket id (as in the events, e.g. zendesk-1234)")
    _config_option(t, False, "the configuration to replay under (with --events)")
    t.add_argument(
        "--events", metavar="FILE", help="events file to replay: JSON Lines or a JSON array ('-': stdin)"
    )
    t.add_argument("--now", metavar="T", help="ISO 8601 instant (default: the ticket's latest event)")
    t.add_argument(
        "--api", metavar="URL", help="read the timeline from the stack's HTTP API at URL (signed with SigV4)"
    )
    t.add_argument(
        "--region", metavar="REGION", help="the API's Region for --api (default: from URL, $AWS_REGION)"
    )
    t.add_argument("--json", action="store_true", help="print the timeline document as JSON")
    t.add_argument(
        "--out", default="-", metavar="FILE", help="write to FILE ('-': standard output, the default)"
    )
    t.set_defaults(module="ticket")

    loc = sub.add_parser("local", help="the local embedded stack (no AWS account)")
    lsub = loc.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    up = lsub.add_parser("up", help="start the stack in the foreground (Ctrl-C stops it)")
    up.add_argument(
        "--port", type=_port, default=8787, help="port on 127.0.0.1 (default 8787; 0: any free one)"
    )
    up.add_argument("--speed", type=_speed, default=1.0, help="how much faster than real time the clock runs")
    _config_option(up, False, "configuration (default: examples/sla.yaml)")
    up.set_defaults(module="slaclock_local.local_up")
    em = lsub.add_parser("emails", help="list the e-mails the running stack captured")
    em.add_argument("--port", type=_port, default=8787, help="the running stack's port (default 8787)")
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
