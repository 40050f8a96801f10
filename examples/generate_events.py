"""Write a seeded, realistic file of canonical ticket events (JSON Lines) for `slaclock replay`.

    python examples/generate_events.py --tickets 300 --seed 7 > examples/events.jsonl
    python examples/generate_events.py --tickets 100000 --out /tmp/events.jsonl

What the events look like (replies at business-ish hours, pauses, reopenings, priority changes,
deletions, late and repeated webhooks) is described in `slaclock_local.sample`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from slaclock_local.sample import DEFAULT_START, generate_events, write_jsonl


def _start(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or instant") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tickets", type=int, default=300, help="how many tickets (default 300)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same file)")
    p.add_argument(
        "--start", type=_start, default=DEFAULT_START, help="first day, ISO 8601 (default 2026-01-05, UTC)"
    )
    p.add_argument("--per-day", type=float, default=None, help="tickets a day (default: fit ~90 days)")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    args = p.parse_args(argv)
    if args.tickets < 0:
        p.error("--tickets must be 0 or more")
    events = generate_events(args.tickets, args.seed, args.start, per_day=args.per_day)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            count = write_jsonl(events, f)
        print(f"wrote {count} events for {args.tickets} tickets to {args.out}", file=sys.stderr)
    else:
        write_jsonl(events, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
