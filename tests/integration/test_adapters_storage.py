"""S3 configuration store, `slaclock config push/show`, S3 report sink and the secret store against moto."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.config import Config
from slaclock.adapters.config_store import ConfigNotFound, S3ConfigStore, StoredConfigInvalid
from slaclock.adapters.s3 import S3ReportSink
from slaclock.adapters.secrets import ParameterSecretStore
from slaclock.commands import config_push, config_show
from slaclock.engine.errors import ConfigError
from slaclock.ports import ServiceUnavailable

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "config"
MINIMAL = (FIXTURES / "minimal.json").read_text()
VALID_YAML = """\
calendars:
  office: {timezone: Europe/Paris, hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"]}}
levels:
  standard: {calendar: office, targets: {first_response: {within: 8h}}}
rules:
  - {name: Everyone, set_level: standard}
"""


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def store(aws, clock: Clock | None = None) -> S3ConfigStore:
    return S3ConfigStore(bucket=aws.env["SLACLOCK_CONFIG_BUCKET"], key=aws.env["SLACLOCK_CONFIG_KEY"],
                         client=aws.client("s3"), monotonic=clock or Clock())  # fmt: skip


# ---------------------------------------------------------------------------------- configuration


def test_a_pushed_configuration_is_loaded_and_cached(aws, api_calls):
    clock = Clock()
    s = store(aws, clock)
    s.push(VALID_YAML)
    api_calls.clear()
    config = s.load()
    assert config.calendars["office"].timezone == "Europe/Paris"
    assert s.load() is config
    clock.t += 59
    assert s.load() is config
    assert api_calls.count(("s3", "GetObject")) == 1  # cached for a minute


def test_after_a_minute_an_unchanged_document_costs_a_conditional_get_and_keeps_the_parse(aws, monkeypatch):
    clock = Clock()
    s = store(aws, clock)
    s.push(VALID_YAML)
    config = s.load()
    seen = []
    original = s.client.get_object

    def spy(**params):
        seen.append(params.get("IfNoneMatch"))
        return original(**params)

    monkeypatch.setattr(s.client, "get_object", spy)
    clock.t += 61
    assert s.load() is config
    assert seen == [s._etag]  # asked with the ETag; 304 -> same Config object


def test_a_new_push_is_picked_up_after_the_recheck_interval(aws):
    clock = Clock()
    reader, writer = store(aws, clock), store(aws)
    writer.push(VALID_YAML)
    assert set(reader.load().levels) == {"standard"}
    writer.push(VALID_YAML.replace("standard", "gold"))
    assert set(reader.load().levels) == {"standard"}
    clock.t += 60
    assert set(reader.load().levels) == {"gold"}


def test_the_policy_is_compiled_once_per_configuration_and_again_after_a_new_push(aws, monkeypatch):
    from slaclock.adapters import config_store

    compiled = []
    real = config_store.compile_policy
    monkeypatch.setattr(config_store, "compile_policy", lambda c: compiled.append(c) or real(c))
    clock = Clock()
    reader, writer = store(aws, clock), store(aws)
    writer.push(VALID_YAML)
    first = reader.policy()
    clock.t += 61  # re-checked: 304, same configuration
    assert reader.policy() is first and reader.policy() is first
    assert first.config is reader.load() and len(compiled) == 1
    writer.push(VALID_YAML.replace("standard", "gold"))
    clock.t += 61
    second = reader.policy()
    assert set(second.goals) == {"gold"} and len(compiled) == 2


def test_an_invalid_push_is_refused_and_the_old_configuration_stays(aws):
    s = store(aws)
    first = s.push(VALID_YAML)
    bad = VALID_YAML.replace("within: 8h", "within: 8 hours").replace("calendar: office", "calendar: nowhere")
    with pytest.raises(ConfigError) as info:
        s.push(bad)
    assert len(info.value.errors) >= 2
    assert s.fetch().text == VALID_YAML
    assert s.fetch().version_id == first.version_id
    versions = aws.client("s3").list_object_versions(Bucket=s.bucket, Prefix=s.key)["Versions"]
    assert len(versions) == 1


def test_a_hand_uploaded_invalid_document_does_not_replace_the_cached_good_one(aws):
    clock = Clock()
    s = store(aws, clock)
    s.push(VALID_YAML)
    good = s.load()
    aws.client("s3").put_object(Bucket=s.bucket, Key=s.key, Body=b"calendars: [")
    clock.t += 61
    assert s.load() is good
    # a cold container has nothing good to fall back on: a server-side condition (503), never a 400
    with pytest.raises(StoredConfigInvalid) as caught:
        store(aws).load()
    assert isinstance(caught.value, ServiceUnavailable)
    assert caught.value.errors


def test_no_configuration_pushed_yet_is_a_clear_error(aws):
    with pytest.raises(ConfigNotFound, match="config push") as caught:
        store(aws).load()
    assert isinstance(caught.value, ServiceUnavailable)  # 503: the helpdesk retries, nothing is lost


def test_a_yaml_document_pushed_to_a_json_key_still_loads(aws):
    s = S3ConfigStore(bucket=aws.bucket, key="config/sla.json", client=aws.client("s3"))
    s.push(VALID_YAML, "yaml")
    assert s.load().levels


def test_json_documents_are_read_as_json(aws):
    s = S3ConfigStore(bucket=aws.bucket, key="config/sla.json", client=aws.client("s3"))
    s.push(MINIMAL)
    assert list(s.load().levels) == ["standard"]


def test_config_push_and_show_commands(aws, tmp_path, capsys):
    good = tmp_path / "sla.yaml"
    good.write_text(VALID_YAML)
    assert config_push.run(argparse.Namespace(config=str(good))) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"pushed s3://{aws.bucket}/{aws.config_key}")

    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES / "many-mistakes.yaml").read_text())
    assert config_push.run(argparse.Namespace(config=str(bad))) == 1
    err = capsys.readouterr().err
    assert "invalid configuration" in err and "nothing was uploaded" in err
    assert "levels.urgent.calendar" in err

    assert config_show.run(argparse.Namespace()) == 0
    assert capsys.readouterr().out == VALID_YAML


@pytest.fixture
def cloudformation(aws, monkeypatch):
    """A stubbed CloudFormation client (botocore Stubber) handed to the command's deployment lookup;
    moto's CloudFormation would import every service's backend just to answer DescribeStacks."""
    from botocore.stub import Stubber
    from slaclock.adapters import _aws

    client = aws.session.client("cloudformation", region_name=aws.region)
    stubber = Stubber(client)
    real = _aws.client
    monkeypatch.setattr(
        _aws, "client", lambda service, **kw: client if service == "cloudformation" else real(service, **kw)
    )
    monkeypatch.delenv("SLACLOCK_CONFIG_BUCKET")
    with stubber:
        yield stubber


def test_config_commands_without_a_deployment_say_so(aws, cloudformation, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SLACLOCK_STACK", "no-such-stack")
    cloudformation.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id no-such-stack does not exist"
    )
    good = tmp_path / "sla.yaml"
    good.write_text(VALID_YAML)
    assert config_push.run(argparse.Namespace(config=str(good))) == 2
    assert "no-such-stack" in capsys.readouterr().err
    assert config_push.run(argparse.Namespace(config=str(tmp_path / "missing.yaml"))) == 2


def test_config_location_from_the_stack_outputs(aws, cloudformation, monkeypatch):
    from slaclock.commands._deployment import config_location

    monkeypatch.setenv("SLACLOCK_STACK", "slaclock-prod")
    outputs = [{"OutputKey": "DataBucketName", "OutputValue": "the-bucket"},
               {"OutputKey": "ConfigKey", "OutputValue": "config/x.yaml"}]  # fmt: skip
    stack = {"StackName": "slaclock-prod", "CreationTime": "2026-01-01T00:00:00Z",
             "StackStatus": "CREATE_COMPLETE", "Outputs": outputs}  # fmt: skip
    cloudformation.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "slaclock-prod"})
    assert config_location() == ("the-bucket", "config/x.yaml")


# ------------------------------------------------------------------------------------------ reports


def test_a_report_streams_to_s3_encrypted_and_is_shared_by_an_expiring_link(aws):
    s3v4 = aws.session.client("s3", region_name=aws.region, config=Config(signature_version="s3v4"))
    sink = S3ReportSink(bucket=aws.env["SLACLOCK_REPORT_BUCKET"], prefix="reports/", client=s3v4)
    rows = (f"4711,{n},met\n".encode() for n in range(1000))
    sink.put("2026-11/sla_log.csv", rows, "text/csv")
    obj = aws.client("s3").get_object(Bucket=aws.bucket, Key="reports/2026-11/sla_log.csv")
    body = obj["Body"].read().decode()
    assert body.splitlines()[0] == "4711,0,met" and len(body.splitlines()) == 1000
    assert obj["ContentType"] == "text/csv"
    assert obj["ServerSideEncryption"] == "AES256"

    link = sink.link("2026-11/sla_log.csv", int(aws.env["SLACLOCK_REPORT_LINK_EXPIRY_SECONDS"]))
    url = urlparse(link)
    query = parse_qs(url.query)
    assert url.path.endswith("/reports/2026-11/sla_log.csv")
    assert query["X-Amz-Expires"] == ["604800"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    with pytest.raises(ValueError, match="7 days"):
        sink.link("x", 8 * 24 * 3600)


def test_a_large_report_is_uploaded_in_parts_without_holding_it(aws, api_calls):
    mib = 1024 * 1024
    sink = S3ReportSink(bucket=aws.bucket, prefix="reports/", client=aws.client("s3"),
                        part_size=5 * mib, multipart_threshold=5 * mib)  # fmt: skip
    chunk = b"x" * (256 * 1024)
    sink.put("big.csv", (chunk for _ in range(48)), "text/csv")  # 12 MiB in 256 KiB chunks
    assert ("s3", "CreateMultipartUpload") in api_calls
    assert api_calls.count(("s3", "UploadPart")) == 3
    head = aws.client("s3").head_object(Bucket=aws.bucket, Key="reports/big.csv")
    assert head["ContentLength"] == 48 * len(chunk)


# ------------------------------------------------------------------------------------------ secrets


def test_the_default_report_client_signs_links_with_sigv4(aws):
    assert S3ReportSink(bucket=aws.bucket).client.meta.config.signature_version == "s3v4"


def test_secrets_come_from_ssm_decrypted_and_are_cached(aws, api_calls):
    aws.client("ssm").put_parameter(Name="/slaclock/zendesk-main", Value="s3cr3t", Type="SecureString")
    secrets = ParameterSecretStore(ssm_client=aws.client("ssm"), secrets_client=aws.client("secretsmanager"))
    assert secrets.secret("/slaclock/zendesk-main") == "s3cr3t"
    assert secrets.secret("/slaclock/zendesk-main") == "s3cr3t"
    assert api_calls.count(("ssm", "GetParameter")) == 1


def test_secrets_manager_arns_are_read_from_secrets_manager(aws):
    arn = aws.client("secretsmanager").create_secret(Name="slaclock/jira", SecretString="t0ken")["ARN"]
    secrets = ParameterSecretStore(ssm_client=aws.client("ssm"), secrets_client=aws.client("secretsmanager"))
    assert secrets.secret(arn) == "t0ken"


def test_secrets_manager_names_are_read_from_secrets_manager_too(aws):
    aws.client("secretsmanager").create_secret(Name="slaclock/freshdesk", SecretString="fr3sh")
    secrets = ParameterSecretStore(ssm_client=aws.client("ssm"), secrets_client=aws.client("secretsmanager"))
    assert secrets.secret("slaclock/freshdesk") == "fr3sh"


def test_a_missing_secret_is_service_unavailable_naming_the_parameter_only(aws):
    secrets = ParameterSecretStore(ssm_client=aws.client("ssm"), secrets_client=aws.client("secretsmanager"))
    with pytest.raises(ServiceUnavailable, match="/slaclock/nope"):
        secrets.secret("/slaclock/nope")
