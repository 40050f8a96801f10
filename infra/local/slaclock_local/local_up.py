"""`slaclock local up [--port N] [--speed X] [--config FILE]`: the local embedded stack, in the foreground.

Starts `slaclock_local.stack.LocalStack` (moto as the AWS endpoint, the resources of template.yaml,
the configuration pushed, a generated secret per source, the real handlers behind an HTTP front on
127.0.0.1:PORT, a scheduler on a virtual clock running X times faster than real time from now), prints
how to use it, then logs each request and each scheduled firing until Ctrl-C (or SIGTERM), which
stops everything and joins every thread.

Exit status: 0 after a clean stop; 1 the configuration is invalid or the stack cannot start; 2 the
port is taken.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from slaclock.engine.errors import SlaclockError
from slaclock.engine.events import format_instant


def _curl_example(stack: Any) -> str:
    """A curl command that creates a ticket through one configured source, if one takes a token."""
    now = format_instant(stack.now().replace(microsecond=0))
    for name, source in stack.sources.items():
        if source.provider != "generic" or not source.secret:
            continue
        mapping = stack.config.sources[name].mapping
        if mapping:
            body: dict[str, Any] = {
                "event": {"id": "evt-1", "kind": "ticket.opened", "occurred_at": now},
                "ticket": {"number": "T-1", "state": "open", "urgency": "high", "queue": "billing",
                           "customer": {"email": "bob@client.test"}},
            }  # fmt: skip
            if "event.kind" not in mapping.values():
                continue
        else:
            ticket = {"status": "open", "priority": "high", "requester": "bob@client.test"}
            body = {"id": "evt-1", "ticket_id": "T-1", "type": "created", "at": now, "ticket": ticket}
        return (
            f"curl -i -X POST {source.url} \\\n"
            f"       -H 'Content-Type: application/json' -H 'X-Slaclock-Token: {source.secret}' \\\n"
            f"       -d '{json.dumps(body, separators=(',', ':'))}'"
        )
    return "(no generic source in this configuration: sign requests as each helpdesk does, see docs)"


def banner(stack: Any, out: TextIO) -> None:
    """What the user needs to use the running stack."""
    front = stack.front_url
    clock = stack.clock
    out.write(f"slaclock local stack up: {front}   (Ctrl-C stops it)\n\n")
    out.write(f"  configuration   {stack.config_path}\n")
    out.write(f"  AWS endpoint    {stack.aws_endpoint} (moto, region {stack.region}, dummy credentials)\n")
    out.write(
        f"  virtual clock   {format_instant(stack.now().replace(microsecond=0))}, {clock.speed:g}x real time"
        f"   (GET/POST {front}/_local/clock)\n"
    )
    out.write(f"  function logs   {stack.function_log}\n")
    out.write(f"  SLA board       {stack.board_url}   (open it in a browser: a local read-only session)\n\n")
    out.write("Webhook sources (paste the URL and the secret into the helpdesk):\n")
    width = max((len(n) for n in stack.sources), default=0)
    for name, source in stack.sources.items():
        secret = source.secret or "(Secrets Manager: not created locally)"
        out.write(f"  {name:<{width}}  {source.provider:<9}  {source.url}\n")
        out.write(f"  {'':<{width}}  {'':<9}  secret {secret}\n")
    out.write("\nTry it:\n" + _curl_example(stack) + "\n")
    out.write(
        f"\nE-mails are captured, not sent: `slaclock local emails --port {stack.front.port}` or "
        f"GET {front}/_local/emails\n"
        f"Tickets: GET {front}/_local/tickets/<id>    schedules: GET {front}/_local/schedules\n"
        f'Fast-forward: curl -X POST {front}/_local/clock -d \'{{"advance": "2h"}}\'\n'
    )
    env = stack.environment
    out.write(
        "Push another configuration:\n"
        f"  AWS_ENDPOINT_URL={stack.aws_endpoint} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
        f"AWS_DEFAULT_REGION={stack.region} SLACLOCK_CONFIG_BUCKET={env['SLACLOCK_CONFIG_BUCKET']} "
        f"SLACLOCK_CONFIG_KEY={env.get('SLACLOCK_CONFIG_KEY', 'config/sla.yaml')} "
        "slaclock config push --file sla.yaml\n\n"
    )
    out.flush()


def run(args: argparse.Namespace) -> int:
    from slaclock_local.stack import LocalStack, LocalStackError

    out = sys.stdout
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            out.write(line + "\n")
            out.flush()

    def on_request(r: Any) -> None:
        target = f" -> {r.function}" if r.function else ""
        say(f"[{_now(stack)}] {r.method} {r.path} {r.status}{target} ({r.duration_ms:.0f} ms)")

    def on_firing(f: Any) -> None:
        error = f" FAILED: {f.invocation.error}" if f.invocation and f.invocation.error else ""
        say(f"[{_now(stack)}] fired {f.source} -> {f.function}{error}")

    stack = LocalStack(
        config=args.config, port=args.port, speed=args.speed, keep_workdir=True,
        on_request=on_request, on_firing=on_firing,
    )  # fmt: skip
    try:
        stack.start()
    except LocalStackError as err:
        print(f"slaclock local up: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(
            f"slaclock local up: cannot listen on 127.0.0.1:{args.port}: {err.strerror or err}",
            file=sys.stderr,
        )
        return 2
    except SlaclockError as err:
        print(f"slaclock local up: {err}", file=sys.stderr)
        return 1
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()

    # Ctrl-C (SIGINT) and SIGTERM both stop cleanly; installed explicitly because a process started in
    # the background of a script inherits SIGINT ignored.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        banner(stack, out)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        say("stopping...")
        stack.stop()
        say("stopped.")
    return 0


def _now(stack: Any) -> str:
    try:
        return format_instant(stack.now().replace(microsecond=0))
    except Exception:  # noqa: BLE001 - a log prefix must never fail
        return datetime.now(UTC).strftime("%H:%M:%S")
