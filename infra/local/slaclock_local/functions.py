"""The local stack's Lambda runtime: the REAL handler modules of template.yaml, loaded by path and invoked
in this process, one invocation at a time.

    runner = FunctionRunner(stack, root, log)        # stack: slaclock_local.resources.StackResources
    runner.load()                                     # "cold start" of every function (imports handlers)
    runner.invoke("WebhookFunction", api_event)       # synchronous, as API Gateway invokes
    runner.invoke_async("CheckFunction", payload)     # as the scheduler invokes: retries, then the DLQ

What is read from the template, per `AWS::Serverless::Function`: `CodeUri` and `Handler` (Globals
merged) to find ``<CodeUri>/<module>.py`` and the function in it, `Timeout` and `MemorySize` for the
context, `Events` of type ``HttpApi`` (routes for the HTTP front) and ``Schedule`` / ``ScheduleV2``
(cron and rate schedules for the scheduler), `EventInvokeConfig.MaximumRetryAttempts` and
`DeadLetterQueue` for asynchronous invocations.

Differences from Lambda, on purpose: every function shares this process (its environment, its module
caches); invocations are serialised by one lock (a handler module holds per-container state, such as
Powertools' current event, that Lambda never shares between concurrent requests); the timeout is
reported by the context but not enforced (a thread cannot be killed). What a handler prints (the
Powertools JSON logs and EMF metrics, CloudWatch's business in Lambda) goes to the stack's function log
file, framed by ``START`` / ``END`` / ``REPORT`` lines like CloudWatch's.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from slaclock.engine.errors import SlaclockError

from slaclock_local.resources import StackResources

__all__ = [
    "FunctionError",
    "FunctionRunner",
    "FunctionSpec",
    "Invocation",
    "LambdaContext",
    "QueueSource",
    "Route",
    "ScheduleEvent",
    "functions_of",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3  # Lambda's defaults when neither the function nor Globals set them
DEFAULT_MEMORY = 128
DEFAULT_ASYNC_RETRIES = 2


class FunctionError(SlaclockError):
    """A handler raised: the message names the function and the exception type (details in the log)."""


@dataclass(frozen=True, slots=True)
class Route:
    """An ``HttpApi`` event: `method` (upper case, or ``ANY``) and `path` (``/webhooks/{source}``,
    ``/reports/{id}``, ``{proxy+}`` greedy; ``$default`` catches everything else)."""

    method: str
    path: str
    function: str
    iam_auth: bool = False
    """The route's API authorizes callers with IAM (SigV4): the event then carries
    ``requestContext.authorizer.iam``; the local front refuses (403) a request not SigV4-signed."""

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class ScheduleEvent:
    """A ``Schedule`` (EventBridge rule) or ``ScheduleV2`` (EventBridge Scheduler) event of a function."""

    name: str
    function: str
    expression: str
    timezone: str = "UTC"
    input: str | None = None
    enabled: bool = True
    kind: str = "Schedule"


@dataclass(frozen=True, slots=True)
class QueueSource:
    """An SQS event source of a function (a SAM ``SQS`` event or an ``AWS::Lambda::EventSourceMapping``):
    `batch_size` messages per invocation; with `report_failures` the function answers
    ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` and only those stay in the queue."""

    function: str
    queue_arn: str
    batch_size: int = 10
    report_failures: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    module_path: Path
    handler_name: str
    timeout: int
    memory: int
    async_retries: int
    dead_letter_arn: str | None
    routes: tuple[Route, ...] = ()
    schedules: tuple[ScheduleEvent, ...] = ()
    queues: tuple[QueueSource, ...] = ()


def _global_function(stack: StackResources) -> dict[str, Any]:
    return dict(((stack.template.get("Globals") or {}).get("Function")) or {})


def _resolved(stack: StackResources, value: Any, default: Any = None) -> Any:
    if value is None:
        return default
    return stack.resolve(value)


def functions_of(stack: StackResources, root: Path) -> dict[str, FunctionSpec]:
    """Every `AWS::Serverless::Function` of the template, by logical id. `root`: the template's folder
    (CodeUri is relative to it)."""
    glob = _global_function(stack)
    out: dict[str, FunctionSpec] = {}
    api_routes = _api_routes(stack)
    for logical in stack.functions():
        props = stack.resource(logical).get("Properties") or {}
        handler = str(_resolved(stack, props.get("Handler"), _resolved(stack, glob.get("Handler"), "")))
        module, _, attr = handler.rpartition(".")
        if not module or not attr:
            raise SlaclockError(f"{logical}: Handler {handler!r} is not <module>.<function>")
        code = Path(str(_resolved(stack, props.get("CodeUri"), ".")))
        module_path = (root / code / (module.replace(".", "/") + ".py")).resolve()
        invoke_config = props.get("EventInvokeConfig") or {}
        dlq = props.get("DeadLetterQueue") or {}
        routes: list[Route] = [r for r in api_routes if r.function == logical]
        schedules: list[ScheduleEvent] = []
        queues: list[QueueSource] = _event_source_mappings(stack, logical)
        for event_name, event in (props.get("Events") or {}).items():
            etype, eprops = event.get("Type"), event.get("Properties") or {}
            if etype == "HttpApi":
                method = str(_resolved(stack, eprops.get("Method"), "ANY")).upper()
                path = str(_resolved(stack, eprops.get("Path"), "$default"))
                routes.append(
                    Route(
                        "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method,
                        path,
                        logical,
                        iam_auth=_iam_auth(stack, eprops),
                    )
                )
            elif etype in ("Schedule", "ScheduleV2"):
                expression = _resolved(stack, eprops.get("Schedule") or eprops.get("ScheduleExpression"))
                state = str(_resolved(stack, eprops.get("State"), "ENABLED")).upper()
                enabled = bool(_resolved(stack, eprops.get("Enabled"), True)) and state != "DISABLED"
                raw_input = _resolved(stack, eprops.get("Input"))
                schedules.append(
                    ScheduleEvent(
                        name=f"{logical}.{event_name}",
                        function=logical,
                        expression=str(expression),
                        timezone=str(_resolved(stack, eprops.get("ScheduleExpressionTimezone"), "UTC")),
                        input=None if raw_input is None else str(raw_input),
                        enabled=enabled,
                        kind=str(etype),
                    )
                )
        out[logical] = FunctionSpec(
            logical_id=logical,
            name=stack.ref(logical),
            arn=stack.get_att(logical, "Arn"),
            module_path=module_path,
            handler_name=attr,
            timeout=int(
                _resolved(stack, props.get("Timeout"), _resolved(stack, glob.get("Timeout"), DEFAULT_TIMEOUT))
            ),
            memory=int(
                _resolved(
                    stack, props.get("MemorySize"), _resolved(stack, glob.get("MemorySize"), DEFAULT_MEMORY)
                )
            ),
            async_retries=int(
                _resolved(stack, invoke_config.get("MaximumRetryAttempts"), DEFAULT_ASYNC_RETRIES)
            ),
            dead_letter_arn=_resolved(stack, dlq.get("TargetArn")) if dlq else None,
            routes=tuple(routes),
            schedules=tuple(schedules),
            queues=tuple(queues),
        )
    return out


def _api_routes(stack: StackResources) -> list[Route]:
    """The template's own ``AWS::ApiGatewayV2::Route`` resources (the admin routes) whose target is an
    ``AWS_PROXY`` integration of a function of the template. Any authorization but ``NONE`` (AWS_IAM,
    or JWT, which the local stack does not run) is served as IAM: it fails closed, never open."""
    resources = stack.template["Resources"]
    out: list[Route] = []
    for res in resources.values():
        if res.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        if res.get("Condition") and not stack.condition(str(res["Condition"])):
            continue
        props = res.get("Properties") or {}
        method, _, path = str(stack.resolve(props["RouteKey"])).partition(" ")
        target = props.get("Target")  # !Sub "integrations/${<integration's logical id>}"
        sub = target.get("Fn::Sub") if isinstance(target, dict) else None
        name = str(sub).removeprefix("integrations/${").removesuffix("}") if isinstance(sub, str) else ""
        uri = ((resources.get(name) or {}).get("Properties") or {}).get("IntegrationUri")
        function = uri.get("Fn::GetAtt", [None])[0] if isinstance(uri, dict) else None
        if function is None:
            continue
        auth = str(stack.resolve(props.get("AuthorizationType", "NONE")))
        out.append(Route(method.upper(), path, str(function), iam_auth=auth != "NONE"))
    return out


def _iam_auth(stack: StackResources, event_props: dict[str, Any]) -> bool:
    """Whether an HttpApi event's route is authorized with AWS_IAM (its own Auth, else its API's default)."""
    own = (event_props.get("Auth") or {}).get("Authorizer")
    if own is not None:
        return str(own) == "AWS_IAM"
    api = event_props.get("ApiId")
    api_id = api.get("Ref") if isinstance(api, dict) else None
    if not api_id or api_id not in stack.template["Resources"]:
        return False
    auth = (stack.resource(api_id).get("Properties") or {}).get("Auth") or {}
    return str(auth.get("DefaultAuthorizer", "")) == "AWS_IAM"


def _event_source_mappings(stack: StackResources, logical: str) -> list[QueueSource]:
    """The template's `AWS::Lambda::EventSourceMapping`s of SQS queues onto function `logical`."""
    out = []
    for mapping_id, res in stack.template["Resources"].items():
        if res.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        props = res.get("Properties") or {}
        target = props.get("FunctionName")
        refs = target.get("Ref") if isinstance(target, dict) else None
        if refs != logical and str(_resolved(stack, target, "")) not in (stack.ref(logical), logical):
            continue
        arn = str(_resolved(stack, props.get("EventSourceArn"), ""))
        if ":sqs:" not in arn:
            log.warning("%s: only SQS event sources run locally (%s)", mapping_id, arn)
            continue
        out.append(
            QueueSource(
                function=logical,
                queue_arn=arn,
                batch_size=int(_resolved(stack, props.get("BatchSize"), 10)),
                report_failures="ReportBatchItemFailures"
                in (_resolved(stack, props.get("FunctionResponseTypes"), []) or []),
                enabled=bool(_resolved(stack, props.get("Enabled"), True)),
            )
        )
    return out


def _restore_stream(name: str, routed: object, original: object) -> None:
    if getattr(sys, name) is routed:
        setattr(sys, name, original)


class LambdaContext:
    """What a handler reads from its Lambda context (Powertools, the sweeper's time budget)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = spec.memory
        self.invoked_function_arn = spec.arn
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local/[$LATEST]" + uuid.uuid4().hex
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(slots=True)
class Invocation:
    """One finished invocation: `result` (the handler's return value) or `error` (a one-line reason)."""

    function: str
    event: Any
    request_id: str
    started: float
    duration_ms: float
    result: Any = None
    error: str | None = None
    attempts: int = 1


class _OutputRouter:
    """Which file the current thread's output goes to: the function log while a handler runs in it."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def to(self, target: IO[str]) -> Iterator[None]:
        previous = getattr(self._local, "target", None)
        self._local.target = target
        try:
            yield
        finally:
            self._local.target = previous

    def target(self) -> IO[str] | None:
        target: IO[str] | None = getattr(self._local, "target", None)
        return target


class _RoutedStream(io.TextIOBase):
    """`sys.stdout` / `sys.stderr` while the stack runs: what a thread inside a handler writes goes to
    the function log; everything else (the CLI's own output) passes through unchanged."""

    def __init__(self, default: IO[str], router: _OutputRouter) -> None:
        self.default = default
        self.router = router

    def _target(self) -> IO[str]:
        return self.router.target() or self.default

    def write(self, s: str) -> int:
        return self._target().write(s)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self.default.isatty()

    def fileno(self) -> int:
        return self.default.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.default, "encoding", "utf-8") or "utf-8"

    def writable(self) -> bool:
        return True


@dataclass
class FunctionRunner:
    """Loads and invokes the template's functions (see the module docstring)."""

    stack: StackResources
    root: Path
    log_file: IO[str]
    dead_letter: Callable[[str, Any, str], None] | None = None
    """Called with (dead-letter ARN, event, error) when an asynchronous invocation fails for good."""
    specs: dict[str, FunctionSpec] = field(init=False)
    observers: list[Callable[[Invocation], None]] = field(default_factory=list)
    history: list[Invocation] = field(default_factory=list)
    _modules: dict[str, ModuleType] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _router: _OutputRouter | None = None
    _restore: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.specs = functions_of(self.stack, self.root)

    # ----------------------------------------------------------------------------- lifecycle

    def load(self) -> None:
        """Route handler output to the log file, then import every handler (each validates its
        settings at import, as at a cold start: a bad environment fails here)."""
        self._install_router()
        for logical, spec in self.specs.items():
            if not spec.module_path.is_file():
                raise SlaclockError(f"{logical}: handler file {spec.module_path} not found")
            with self._captured():
                self._modules[logical] = self._import(spec)

    def _import(self, spec: FunctionSpec) -> ModuleType:
        module_name = f"_slaclock_local_{spec.logical_id}"
        loader_spec = importlib.util.spec_from_file_location(module_name, spec.module_path)
        if loader_spec is None or loader_spec.loader is None:
            raise SlaclockError(f"{spec.logical_id}: cannot load {spec.module_path}")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
        if not callable(getattr(module, spec.handler_name, None)):
            raise SlaclockError(f"{spec.logical_id}: {spec.module_path} has no function {spec.handler_name}")
        return module

    def close(self) -> None:
        """Undo the output routing (the modules are dropped; nothing else to release)."""
        with self._lock:
            for undo in reversed(self._restore):
                undo()
            self._restore.clear()
            self._modules.clear()
            self._router = None

    def _install_router(self) -> None:
        if self._router is not None:
            return
        router = _OutputRouter()
        self._router = router
        for name in ("stdout", "stderr"):
            original = getattr(sys, name)
            routed = _RoutedStream(original, router)
            setattr(sys, name, routed)
            self._restore.append(partial(_restore_stream, name, routed, original))
            # Powertools' Logger binds sys.stdout when it is created: point an existing one at the router.
            for logger_name in ("slaclock", "aws_lambda_powertools"):
                for handler in logging.getLogger(logger_name).handlers:
                    stream = getattr(handler, "stream", None)
                    if isinstance(handler, logging.StreamHandler) and stream in (
                        original,
                        getattr(sys, f"__{name}__"),
                    ):
                        previous = handler.setStream(routed)
                        self._restore.append(partial(handler.setStream, previous))

    @contextmanager
    def _captured(self) -> Iterator[None]:
        if self._router is None:
            yield
            return
        with self._router.to(self.log_file):
            try:
                yield
            finally:
                self.log_file.flush()

    # ----------------------------------------------------------------------------- invoking

    def spec_for_arn(self, arn: str) -> FunctionSpec | None:
        """The function an ARN names (qualified ARNs ``...:function:name:alias`` too)."""
        base = ":".join(arn.split(":")[:7])
        return next((s for s in self.specs.values() if s.arn == base), None)

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        """Invoke synchronously (RequestResponse). A handler exception is recorded in the returned
        `Invocation.error` (and its traceback in the log), never raised."""
        spec = self.specs[logical_id]
        with self._lock:
            module = self._modules.get(logical_id)
            if module is None:
                raise SlaclockError(f"{logical_id} is not loaded (the stack is not running)")
            handler = getattr(module, spec.handler_name)
            context = LambdaContext(spec)
            started = time.perf_counter()
            result: Any = None
            error: str | None = None
            with self._captured():
                print(f"START RequestId: {context.aws_request_id} Function: {spec.name}")
                try:
                    result = handler(event, context)
                except Exception as exc:  # noqa: BLE001 - a function error, as Lambda reports it
                    error = f"{type(exc).__name__}: {exc}"
                    print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                                      "stackTrace": traceback.format_exception(exc)}))  # fmt: skip
                duration = (time.perf_counter() - started) * 1000
                print(f"END RequestId: {context.aws_request_id}")
                print(f"REPORT RequestId: {context.aws_request_id}\tDuration: {duration:.2f} ms")
            invocation = Invocation(
                logical_id, event, context.aws_request_id, started, duration, result, error
            )
            self.history.append(invocation)
            for observer in list(self.observers):
                observer(invocation)
            return invocation

    def invoke_async(self, logical_id: str, event: Any) -> Invocation:
        """Invoke as an asynchronous (Event) invocation: retried up to the function's
        `EventInvokeConfig.MaximumRetryAttempts` (immediately: no back-off locally), then handed to
        its dead-letter queue."""
        spec = self.specs[logical_id]
        attempts = 0
        while True:
            attempts += 1
            invocation = self.invoke(logical_id, event)
            invocation.attempts = attempts
            if invocation.error is None or attempts > spec.async_retries:
                break
        if invocation.error is not None:
            log.warning("%s failed %d times: %s", spec.logical_id, attempts, invocation.error)
            if spec.dead_letter_arn and self.dead_letter is not None:
                self.dead_letter(spec.dead_letter_arn, event, invocation.error)
        return invocation
