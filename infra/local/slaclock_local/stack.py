"""The local embedded stack: the whole slaclock pipeline on one machine, no AWS account.

    with LocalStack(config="examples/sla.yaml", speed=60) as stack:      # or stack.start() / stack.stop()
        stack.front_url                     # http://127.0.0.1:PORT  (POST /webhooks/<source>, ...)
        stack.sources["zendesk-main"]       # provider, secret, webhook URL
        stack.fast_forward(datetime(...))   # advance the virtual clock, firing what is due on the way
        stack.emails()                      # the e-mails the functions sent (captured)

What `start` does, in order (and `stop` undoes, in reverse):

1. moto's server (`moto.server.ThreadedMotoServer`) on 127.0.0.1, a free port: the AWS endpoint of
   everything (``AWS_ENDPOINT_URL``, dummy credentials, the region), in this process.
2. The resources FROM template.yaml (`slaclock_local.resources.create_from_template`: table and
   indexes, bucket, schedule group, queue, SES identity), so the local stack cannot drift from what
   deploys.
3. The environment of every function exactly as the template sets it (Globals + the function's own,
   `!Ref` / `!GetAtt` resolved to the local names and ARNs). The process has one environment: a
   variable two functions set differently is refused.
4. The configuration uploaded as `slaclock config push` does (validated, to the data bucket), a
   generated secret per source in moto's SSM Parameter Store (SecureString at the source's
   ``ssm_parameter``; `secrets` may fix them), and one for signing the outgoing escalation webhooks.
5. The virtual clock given to the composition root as the functions' clock (``wiring.override(clock=
   ...)``), the outgoing webhooks captured (`slaclock_local.hooks`, ``wiring.override(webhooks=...)``),
   the handlers loaded (`slaclock_local.functions`).
6. The HTTP front (`slaclock_local.front`) and the scheduler thread (`slaclock_local.schedules`).

Everything listens on 127.0.0.1 only. The process-wide state it touches (environment variables,
``sys.stdout``, the runtime clock, the adapters' cached clients) is restored by `stop`, so tests can
start and stop stacks in one process (one stack at a time).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets as secrets_module
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from slaclock.engine.errors import SlaclockError
from slaclock.engine.events import format_instant, parse_instant

from slaclock_local.clock import VirtualClock
from slaclock_local.front import LocalFront, LocalResponse, RequestRecord
from slaclock_local.functions import FunctionRunner, Invocation, Route
from slaclock_local.hooks import OutgoingCapture
from slaclock_local.mail import CapturedEmail, MailCapture
from slaclock_local.resources import StackResources, create_from_template, default_template_path
from slaclock_local.schedules import Firing, LocalScheduler

__all__ = ["DEFAULT_CONFIG", "LocalStack", "LocalStackError", "SourceInfo", "repository_root"]

log = logging.getLogger(__name__)

REGION = "eu-west-1"
SENDER = "sla@example.com"
STACK_NAME = "slaclock-local"
ACCESS_KEY = "local"  # moto accepts any credentials; these are not secrets  # noqa: S105


def repository_root() -> Path:
    """The folder of template.yaml (this file is infra/local/slaclock_local/stack.py)."""
    return default_template_path().parent


DEFAULT_CONFIG = repository_root() / "examples" / "sla.yaml"

#: Environment variables the stack sets or clears for the AWS SDKs; saved and restored by `stop`.
_AWS_VARIABLES = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)  # fmt: skip


class LocalStackError(SlaclockError):
    """The local stack cannot start (bad configuration file, conflicting environment, ...)."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A configured webhook source as the local stack serves it."""

    name: str
    provider: str
    secret_parameter: str | None
    secret: str | None
    url: str


def _reset_process_caches() -> None:
    """Forget every cached client and adapter, so the next use reads the current environment."""
    from slaclock.runtime import wiring

    wiring.reset_connections()


class LocalStack:
    """See the module docstring. Parameters:

    `config`: the configuration file (default examples/sla.yaml). `port`: the HTTP front's port (0: a
    free one). `speed`: virtual seconds per real second. `start_at`: the virtual instant at start
    (default: now). `paused`: the clock stands still until fast-forwarded (deterministic runs).
    `secrets`: source name -> secret (default: generated). `workdir`: where the function log goes
    (default: a new temporary folder, removed by `stop` unless `keep_workdir`). `on_request` /
    `on_firing`: callbacks for each HTTP request served and each scheduled firing.
    """

    #: The stack running in this process: its environment, clock and output routing are process-wide.
    _active: LocalStack | None = None
    _active_lock = threading.Lock()

    def __init__(
        self,
        *,
        config: str | Path | None = None,
        port: int = 0,
        speed: float = 1.0,
        start_at: datetime | None = None,
        paused: bool = False,
        template: str | Path | None = None,
        region: str = REGION,
        sender: str = SENDER,
        stack_name: str = STACK_NAME,
        secrets: Mapping[str, str] | None = None,
        workdir: str | Path | None = None,
        keep_workdir: bool = False,
        on_request: Callable[[RequestRecord], None] | None = None,
        on_firing: Callable[[Firing], None] | None = None,
        poll_seconds: float = 0.25,
    ) -> None:
        self.config_path = Path(config) if config else DEFAULT_CONFIG
        self.template_path = Path(template) if template else default_template_path()
        self.port = port
        self.region = region
        self.sender = sender
        self.stack_name = stack_name
        self.clock = VirtualClock(start_at, speed=speed, paused=paused)
        self._given_secrets = dict(secrets or {})
        self._workdir_arg = Path(workdir) if workdir else None
        self.keep_workdir = keep_workdir or workdir is not None
        self.on_request = on_request
        self.on_firing = on_firing
        self.poll_seconds = poll_seconds

        self.resources: StackResources | None = None
        self.environment: dict[str, str] = {}
        self.sources: dict[str, SourceInfo] = {}
        self.config_text = ""
        self.outgoing_secret: str | None = None
        self.workdir: Path | None = None
        self.function_log: Path | None = None
        self.aws_endpoint = ""
        self.runner: FunctionRunner | None = None
        self.scheduler: LocalScheduler | None = None
        self.front: LocalFront | None = None
        self.mail: MailCapture | None = None
        self.outgoing: OutgoingCapture | None = None
        self._moto: Any = None
        self._session: Any = None
        self._log_handle: IO[str] | None = None
        self._saved_env: dict[str, str | None] = {}
        self._undo: list[Callable[[], None]] = []
        self._running = False
        self._lock = threading.RLock()

    # ================================================================================ lifecycle

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> LocalStack:
        """Start everything (see the module docstring). On failure, what was started is stopped and
        the error raised (a `LocalStackError` for the user's mistakes)."""
        if self._running:
            return self
        with LocalStack._active_lock:
            if LocalStack._active is not None:
                raise LocalStackError("another local stack runs in this process: stop it first")
            LocalStack._active = self
        self._undo.append(self._release)
        try:
            self._start()
        except BaseException:
            self._teardown()
            raise
        self._running = True
        return self

    def _release(self) -> None:
        with LocalStack._active_lock:
            if LocalStack._active is self:
                LocalStack._active = None

    def stop(self) -> None:
        """Stop everything, join every thread, restore the process (idempotent)."""
        with self._lock:
            self._teardown()
            self._running = False

    def _teardown(self) -> None:
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except Exception:  # noqa: BLE001 - keep undoing the rest; report it
                log.exception("local stack: cleanup step failed")

    def _start(self) -> None:
        config_text = self._read_config()
        self._start_moto()
        self._set_aws_environment()
        self.resources = create_from_template(
            self.template_path, self._session, parameters=self._parameters(), stack_name=self.stack_name,
            region=self.region,
        )  # fmt: skip
        # moto's SES account is a sandbox (1 message/s): the local stack does not pace its e-mails.
        self.environment = {**self._function_environment(self.resources), "SLACLOCK_SES_SEND_RATE": "1000"}
        self._set_environment(self.environment)
        _reset_process_caches()
        self._push_config(config_text)
        self._put_secrets()
        self._open_workdir()
        self._install_clock()
        self._start_mail_and_hooks()
        self._start_functions()
        self._start_front()
        self._start_scheduler()

    # -------------------------------------------------------------------------------- steps

    def _read_config(self) -> str:
        from slaclock.adapters.config_file import load_config_text
        from slaclock.engine.errors import ConfigError

        try:
            text = self.config_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise LocalStackError(f"cannot read configuration {self.config_path}: {err}") from err
        fmt = "json" if self.config_path.suffix.lower() == ".json" else "yaml"
        try:
            self.config = load_config_text(text, fmt)
        except ConfigError as err:
            lines = "\n  ".join(err.messages())
            raise LocalStackError(f"{self.config_path}: {err.what}:\n  {lines}") from err
        self.config_text = text
        return text

    def _start_moto(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as err:
            raise LocalStackError(
                f"the local stack needs moto's server ({err}): pip install -c constraints.txt -e '.[dev]'"
            ) from err

        werkzeug = logging.getLogger("werkzeug")  # moto's per-request access log: silenced while we run
        level = werkzeug.level
        werkzeug.setLevel(logging.ERROR)
        self._undo.append(lambda: werkzeug.setLevel(level))
        from slaclock_local import moto_transactions

        moto_transactions.install()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._moto = server
        host, port = server.get_host_and_port()
        self.aws_endpoint = f"http://{host}:{port}"
        self._undo.append(self._stop_moto)

    def _stop_moto(self) -> None:
        if self._moto is not None:
            _reset_backends(self.aws_endpoint)
            self._moto.stop()
            self._moto = None

    def _set_environment(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            if name not in self._saved_env:
                self._saved_env[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_environment(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        _reset_process_caches()

    def _set_aws_environment(self) -> None:
        import boto3

        self._undo.append(self._restore_environment)
        # Cleared: anything that could send a call elsewhere than moto (a service-specific endpoint,
        # "ignore configured endpoints", a profile or role of a real account).
        names = [*_AWS_VARIABLES, *(n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_"))]
        values: dict[str, str | None] = {name: None for name in names}
        values.update(
            AWS_ENDPOINT_URL=self.aws_endpoint,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=ACCESS_KEY,
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            AWS_EC2_METADATA_DISABLED="true",
            # no ~/.aws files: nothing of the user's real account is read
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        self._set_environment(values)
        self._session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=ACCESS_KEY, region_name=self.region
        )

    def client(self, service: str) -> Any:
        """A boto3 client on the local endpoint."""
        return self._session.client(service, region_name=self.region, endpoint_url=self.aws_endpoint)

    def _parameters(self) -> dict[str, str]:
        """Template parameter values: the sender, and the stage ``local`` when the template has one."""
        from slaclock_local.resources import load_template

        declared = load_template(self.template_path).get("Parameters") or {}
        wanted = {"SenderEmail": self.sender, "Stage": "local"}
        return {k: v for k, v in wanted.items() if k in declared}

    @staticmethod
    def _function_environment(resources: StackResources) -> dict[str, str]:
        merged: dict[str, str] = {}
        owner: dict[str, str] = {}
        conflicts = []
        for function in resources.functions():
            for name, value in resources.environment(function).items():
                if name in merged and merged[name] != value:
                    conflicts.append(f"{name} ({owner[name]}: {merged[name]!r}, {function}: {value!r})")
                merged.setdefault(name, value)
                owner.setdefault(name, function)
        if conflicts:
            raise LocalStackError(
                "the local stack runs every function in one process, but the template gives them "
                "different values for: " + "; ".join(conflicts)
            )
        return merged

    def _push_config(self, text: str) -> None:
        from slaclock.adapters.config_store import S3ConfigStore

        fmt = "json" if self.config_path.suffix.lower() == ".json" else "yaml"
        bucket = self.environment["SLACLOCK_CONFIG_BUCKET"]
        key = self.environment.get("SLACLOCK_CONFIG_KEY") or "config/sla.yaml"
        S3ConfigStore(bucket=bucket, key=key, client=self.client("s3")).push(text, fmt)

    def _put_secrets(self) -> None:
        ssm = self.client("ssm")
        self.sources = {}
        for name, source in self.config.sources.items():
            secret: str | None = None
            if source.secret_ssm_parameter:
                secret = self._given_secrets.get(name) or secrets_module.token_urlsafe(24)
                ssm.put_parameter(
                    Name=source.secret_ssm_parameter, Value=secret, Type="SecureString", Overwrite=True,
                    Description=f"slaclock local: secret of webhook source {name}",
                )  # fmt: skip
            else:
                log.warning("source %s: a Secrets Manager secret is not created locally", name)
            self.sources[name] = SourceInfo(name, source.provider, source.secret_ssm_parameter, secret, "")
        parameter = self._outgoing_secret_name()
        if parameter and parameter.startswith("/"):
            outgoing = self._given_secrets.get("outgoing-webhook") or secrets_module.token_urlsafe(24)
            self.outgoing_secret = outgoing
            ssm.put_parameter(
                Name=parameter, Value=outgoing, Type="SecureString", Overwrite=True,
                Description="slaclock local: signs the outgoing escalation webhooks",
            )  # fmt: skip

    def _outgoing_secret_name(self) -> str | None:
        """The SSM parameter of the secret that signs outgoing escalation webhooks (the check
        function's setting: its environment variable, else the setting's default)."""
        name = self.environment.get("SLACLOCK_WEBHOOK_SIGNING_SECRET")
        if name:
            return name
        try:
            from slaclock.runtime.settings import CheckSettings

            default = CheckSettings.model_fields["webhook_signing_secret"].default
        except (ImportError, KeyError):
            return None
        return str(default) if default else None

    def _open_workdir(self) -> None:
        if self._workdir_arg is not None:
            self._workdir_arg.mkdir(parents=True, exist_ok=True)
            self.workdir = self._workdir_arg
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="slaclock-local-"))
            if not self.keep_workdir:
                workdir = self.workdir
                self._undo.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
        self.function_log = self.workdir / "functions.log"
        self._log_handle = self.function_log.open("a", encoding="utf-8")
        handle = self._log_handle
        self._undo.append(handle.close)

    def _install_clock(self) -> None:
        from slaclock.runtime import wiring

        wiring.override(clock=self.clock.now)
        self._undo.append(lambda: wiring.override(clock=None))

    def _start_mail_and_hooks(self) -> None:
        assert self.resources is not None
        self.mail = MailCapture(self.resources.account_id, self.region)
        self.mail.start()
        self.outgoing = OutgoingCapture(self.clock.now)
        self.outgoing.install()
        self._undo.append(self.outgoing.uninstall)

    def _start_functions(self) -> None:
        assert self.resources is not None and self._log_handle is not None
        runner = FunctionRunner(
            self.resources, self.template_path.parent, self._log_handle, self._dead_letter
        )
        mail = self.mail
        clock = self.clock

        def capture_mail(invocation: Invocation) -> None:
            if mail is not None:
                mail.sync(clock.now(), invocation.function)

        runner.observers.append(capture_mail)
        self._undo.append(runner.close)
        runner.load()
        self.runner = runner

    def _dead_letter(self, arn: str, event: Any, error: str) -> None:
        import json

        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        attributes = {"ErrorMessage": {"DataType": "String", "StringValue": error[:256]}}
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes=attributes)

    def routes(self) -> list[Route]:
        assert self.runner is not None
        return [route for spec in self.runner.specs.values() for route in spec.routes]

    def _start_front(self) -> None:
        assert self.runner is not None and self.resources is not None
        api_id = "local"
        front = LocalFront(
            self.runner, self.routes(), api_id=api_id, account_id=self.resources.account_id,
            now=self.clock.now, local_api=self._local_api, port=self.port, on_request=self.on_request,
            iam=(ACCESS_KEY, self.region), session_token=secrets_module.token_urlsafe(24),
        )  # fmt: skip
        front.start()
        self.front = front
        self._undo.append(front.stop)
        self.sources = {
            name: SourceInfo(s.name, s.provider, s.secret_parameter, s.secret, f"{front.url}/webhooks/{name}")
            for name, s in self.sources.items()
        }
        if "SLACLOCK_REPORT_LINK_BASE_URL" in self.environment:
            # The template points report links at the API Gateway URL; here the front serves the route.
            self.environment["SLACLOCK_REPORT_LINK_BASE_URL"] = f"{front.url}/links/"
            self._set_environment(
                {"SLACLOCK_REPORT_LINK_BASE_URL": self.environment["SLACLOCK_REPORT_LINK_BASE_URL"]}
            )
            from slaclock.runtime import report_wiring

            report_wiring.reset()  # the report function read its settings at its cold start

    def _start_scheduler(self) -> None:
        assert self.runner is not None and self.resources is not None
        scheduler = LocalScheduler(
            self.clock, self.runner, self.client("scheduler"), account_id=self.resources.account_id,
            region=self.region, poll_seconds=self.poll_seconds,
        )  # fmt: skip
        events = [ev for spec in self.runner.specs.values() for ev in spec.schedules]
        skip: dict[str, Callable[[datetime], bool]] = {}
        if "SweeperFunction" in self.runner.specs:
            skip["SweeperFunction"] = self._nothing_to_sweep
        scheduler.add_template_schedules(events, skip)
        queues = [q for spec in self.runner.specs.values() for q in spec.queues]
        if queues:
            scheduler.add_queue_sources(queues, self.client("sqs"))
        if self.on_firing is not None:
            scheduler.observers.append(self.on_firing)
        scheduler.start()
        self.scheduler = scheduler
        self._undo.append(scheduler.stop)

    def _nothing_to_sweep(self, at: datetime) -> bool:
        """True when no ticket's armed check instant is at or before `at` (what the sweeper's index
        query would find), read from moto's DynamoDB in memory; False when unsure."""
        try:
            from moto.dynamodb.models import dynamodb_backends
            from slaclock.adapters.dynamodb import instant_key

            assert self.resources is not None
            table = dynamodb_backends[self.resources.account_id][self.region].get_table(
                self.environment["SLACLOCK_TABLE"]
            )
            bound = instant_key(at)
            for item in table.all_items():
                due = item.attrs.get("next_check_at")
                if due is not None and "due_shard" in item.attrs and str(due.value) <= bound:
                    return False
            return True
        except Exception:  # noqa: BLE001 - unsure: let the real sweeper look
            return False

    # ================================================================================ operations

    @property
    def front_url(self) -> str:
        if self.front is None:
            raise LocalStackError("the local stack is not running")
        return self.front.url

    @property
    def board_url(self) -> str:
        """Opens the board in a browser: sets the local session cookie and redirects to /admin/board
        (`slaclock_local.front`: the local stand-in for SigV4 or a JWT, for reads only)."""
        if self.front is None:
            raise LocalStackError("the local stack is not running")
        return self.front.board_url

    def webhook_url(self, source: str) -> str:
        return f"{self.front_url}/webhooks/{source}"

    def now(self) -> datetime:
        return self.clock.now()

    def fast_forward(self, to: datetime) -> list[Firing]:
        """Advance the virtual clock to `to`, firing every due schedule on the way, in order."""
        if self.scheduler is None:
            raise LocalStackError("the local stack is not running")
        return self.scheduler.fast_forward(to)

    def emails(self) -> list[CapturedEmail]:
        return self.mail.snapshot() if self.mail is not None else []

    def ticket(self, ticket_id: str) -> dict[str, Any] | None:
        """The stored ticket as the engine sees it now: level, matched rules, clocks, next check."""
        from slaclock.adapters.dynamodb import DynamoTicketStore
        from slaclock.engine.clocks import evaluate
        from slaclock.engine.policy import compile_policy

        stored = DynamoTicketStore(self.environment["SLACLOCK_TABLE"]).get(ticket_id)
        if stored is None:
            return None
        now = self.clock.now()
        view = evaluate(compile_policy(self.config), stored.state, now)
        return {
            "ticket_id": ticket_id,
            "now": format_instant(now),
            "version": stored.version,
            "level": view.level,
            "matched_rules": list(view.matched_rules),
            "fields": dict(view.fields),
            "deleted": view.deleted,
            "next_check_at": format_instant(stored.next_check_at) if stored.next_check_at else None,
            "clocks": [
                {
                    "metric": str(c.metric),
                    "cycle": c.cycle,
                    "level": c.level,
                    "calendar": c.calendar,
                    "status": c.status.value,
                    "started_at": format_instant(c.started_at),
                    "due_at": format_instant(c.due_at) if c.due_at else None,
                    "stopped_at": format_instant(c.stopped_at) if c.stopped_at else None,
                    "business_seconds": c.business_seconds,
                    "remaining_seconds": c.remaining_seconds,
                    "steps": [
                        {"kind": st.kind.value, "key": st.key, "at": format_instant(st.at)} for st in c.steps
                    ],
                }  # fmt: skip
                for c in view.clocks
            ],
        }

    def schedules(self) -> list[dict[str, Any]]:
        """The pending one-time schedules (instant, name, input) and the recurring ones."""
        if self.scheduler is None:
            return []
        out = [
            {
                "at": format_instant(at),
                "group": s.group,
                "name": s.name,
                "target": s.target_arn,
                "input": s.input,
            }
            for at, s in self.scheduler.pending()
        ]
        return out

    # ================================================================================ /_local/ API

    def _local_api(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> LocalResponse:
        try:
            return self._local_api_unsafe(method, path, query, body)
        except SlaclockError as err:
            return LocalResponse.json(400, {"error": str(err)})
        except Exception as err:  # noqa: BLE001 - the local API never crashes the front
            log.exception("local API %s %s failed", method, path)
            return LocalResponse.json(500, {"error": type(err).__name__})

    def _local_api_unsafe(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> LocalResponse:
        import json

        parts = [p for p in path.split("/") if p][1:]  # after "_local"
        if method == "GET" and parts in ([], ["index"]):
            return LocalResponse.json(200, self.describe())
        if method == "GET" and parts == ["emails"]:
            emails = [e.to_dict() for e in self.emails()]
            if query.get("to"):
                emails = [e for e in emails if query["to"].lower() in (a.lower() for a in e["to"])]
            return LocalResponse.json(200, {"count": len(emails), "emails": emails})
        if method == "GET" and parts == ["webhooks-sent"]:
            sent = [w.to_dict() for w in (self.outgoing.snapshot() if self.outgoing else [])]
            return LocalResponse.json(200, {"count": len(sent), "webhooks": sent})
        if method == "GET" and parts == ["actions"]:
            calls = [c.to_dict() for c in (self.outgoing.actions() if self.outgoing else [])]
            return LocalResponse.json(200, {"count": len(calls), "actions": calls})
        if method == "GET" and parts == ["schedules"]:
            return LocalResponse.json(200, {"now": format_instant(self.now()), "schedules": self.schedules()})
        if method == "GET" and len(parts) == 2 and parts[0] == "tickets":
            ticket = self.ticket(parts[1])
            if ticket is None:
                return LocalResponse.json(404, {"error": f"no ticket {parts[1]!r}"})
            return LocalResponse.json(200, ticket)
        if parts == ["clock"]:
            if method == "GET":
                return LocalResponse.json(200, self._clock_doc())
            if method == "POST":
                return self._clock_post(json.loads(body or b"{}"))
        return LocalResponse.json(404, {"error": f"no local endpoint {method} {path}"})

    def _clock_doc(self) -> dict[str, Any]:
        return {"now": format_instant(self.now()), "speed": self.clock.speed, "paused": self.clock.paused}

    def _clock_post(self, doc: Any) -> LocalResponse:
        """``{"fast_forward_to": "2026-05-08T18:00:00Z"}`` or ``{"advance": "2h"}``; optional
        ``{"pause": true}`` / ``{"resume": true}``."""
        from slaclock.engine.durations import parse_duration

        if not isinstance(doc, dict):
            return LocalResponse.json(400, {"error": "a JSON object is expected"})
        if doc.get("pause"):
            self.clock.pause()
        if doc.get("resume"):
            self.clock.resume()
        target: datetime | None = None
        if "fast_forward_to" in doc:
            errors: list[tuple[str, str]] = []
            target = parse_instant(str(doc["fast_forward_to"]), "fast_forward_to", errors)
            if target is None:
                return LocalResponse.json(400, {"error": "; ".join(f"{p}: {m}" for p, m in errors)})
        elif "advance" in doc:
            try:
                target = self.now() + parse_duration(str(doc["advance"]))
            except ValueError as err:
                return LocalResponse.json(400, {"error": f"advance: {err}"})
        fired: list[Firing] = []
        if target is not None:
            fired = self.fast_forward(target)
        return LocalResponse.json(
            200,
            {
                **self._clock_doc(),
                "fired": [
                    {
                        "at": format_instant(f.at),
                        "source": f.source,
                        "function": f.function,
                        "error": f.invocation.error if f.invocation else None,
                    }  # fmt: skip
                    for f in fired
                ],
            },
        )

    def describe(self) -> dict[str, Any]:
        """What `local up` prints, as JSON (``GET /_local/``)."""
        return {
            "front": self.front_url,
            "aws_endpoint": self.aws_endpoint,
            "region": self.region,
            "clock": self._clock_doc(),
            "function_log": str(self.function_log) if self.function_log else None,
            "sources": {
                name: {"provider": s.provider, "url": s.url, "secret_parameter": s.secret_parameter}
                for name, s in self.sources.items()
            },
            "routes": [r.route_key for r in self.routes()],
            "environment": {
                "SLACLOCK_CONFIG_BUCKET": self.environment.get("SLACLOCK_CONFIG_BUCKET"),
                "SLACLOCK_CONFIG_KEY": self.environment.get("SLACLOCK_CONFIG_KEY"),
            },  # fmt: skip
            "local_endpoints": [
                "GET /_local/emails[?to=ADDRESS]",
                "GET /_local/tickets/{id}",
                "GET /_local/schedules",
                "GET /_local/webhooks-sent",
                "GET /_local/actions",
                "GET /_local/clock",
                'POST /_local/clock {"fast_forward_to": "<instant>"} | {"advance": "2h"}',
            ],  # fmt: skip
        }


def _reset_backends(endpoint: str) -> None:
    """Empty moto's in-memory account (its server ran in this process; its state would outlive it)."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")  # noqa: S310
    with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback
        pass


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[LocalStack]:
    """``with running(config=..., paused=True) as stack: ...``"""
    stack = LocalStack(**kwargs)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def parse_start(text: str | None) -> datetime | None:
    """An ISO 8601 instant for ``--start`` (None: now)."""
    if not text:
        return None
    errors: list[tuple[str, str]] = []
    t = parse_instant(text, "start", errors)
    if t is None:
        raise LocalStackError("; ".join(f"{p}: {m}" for p, m in errors))
    return t.astimezone(UTC)
