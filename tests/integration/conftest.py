"""moto fixtures: an in-memory AWS account whose resources are created FROM template.yaml.

    def test_something(aws):            # inside mock_aws(); env vars set as the template sets them
        aws.table, aws.bucket, aws.config_key, aws.schedule_group, aws.queue_url, aws.sender
        aws.client("scheduler")         # a boto3 client on the mock
        aws.env_for("CheckFunction")    # that function's environment, resolved from the template

The environment of every function in the template (Globals merged with the function's own) is set
with monkeypatch, so handlers and the composition root read the same variables as in Lambda.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from slaclock_local.resources import StackResources, create_from_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-1"
SENDER = "sla@example.com"
STACK = "slaclock-test"


@dataclass
class AwsStack:
    """The mocked account: resource names and clients (all inside one `mock_aws()`)."""

    session: boto3.session.Session
    stack: StackResources
    env: dict[str, str]
    region: str = REGION
    sender: str = SENDER
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def env_for(self, function_logical_id: str) -> dict[str, str]:
        return self.stack.environment(function_logical_id)

    @property
    def account_id(self) -> str:
        return self.stack.account_id

    @property
    def table(self) -> str:
        return self.stack.ref("SlaTable")

    @property
    def bucket(self) -> str:
        return self.stack.ref("DataBucket")

    @property
    def config_key(self) -> str:
        return self.stack.ref("ConfigKey")

    @property
    def schedule_group(self) -> str:
        return self.stack.ref("CheckScheduleGroup")

    @property
    def queue_url(self) -> str:
        return self.stack.ref("DeadLetterQueue")

    @property
    def dlq_arn(self) -> str:
        return self.stack.get_att("DeadLetterQueue", "Arn")

    @property
    def scheduler_role_arn(self) -> str:
        return self.stack.get_att("SchedulerRole", "Arn")

    @property
    def check_function_arn(self) -> str:
        return self.env["SLACLOCK_CHECK_FUNCTION_ARN"]


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, and no real endpoint or profile, so nothing can reach AWS."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for the whole run: it caches botocore's service models (loading them is ~80 ms per
    service), so each test's clients are cheap. Fake credentials; moto intercepts every call."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing",
        region_name=REGION,
    )  # fmt: skip


#: The SES send rate of the mocked account (``GetSendQuota``): a production account whose quota was
#: raised. moto's own is the sandbox's 1 message/s, at which the paced mailer would make every test
#: wait seconds per e-mail; tests of the pacing itself set theirs with `set_send_rate`.
TEST_SEND_RATE = 1000.0


def set_send_rate(monkeypatch: pytest.MonkeyPatch, max_send_rate: float) -> None:
    """Give the mocked SES account `max_send_rate` messages per second (what ``GetSendQuota`` says)."""
    from moto.ses.models import SESQuota

    original = SESQuota.__init__

    def init(self: Any, sent: int) -> None:
        original(self, sent)
        self.max_send_rate = max_send_rate

    monkeypatch.setattr(SESQuota, "__init__", init)


@pytest.fixture
def aws(
    aws_credentials: None, boto_session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AwsStack]:
    """A fresh mocked account with template.yaml's resources and every function's environment set."""
    set_send_rate(monkeypatch, TEST_SEND_RATE)
    with mock_aws():
        session = boto_session
        stack = create_from_template(TEMPLATE, session, parameters={"SenderEmail": SENDER}, stack_name=STACK)
        env: dict[str, str] = {}
        for function in stack.functions():
            env.update(stack.environment(function))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield AwsStack(session=session, stack=stack, env=env)


@pytest.fixture
def api_calls(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every AWS API call made from here on, as (service, operation), in order. Wraps botocore's
    `BaseClient._make_api_call`, so boto3 and pynamodb clients alike are seen."""
    import botocore.client

    calls: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.append((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls
