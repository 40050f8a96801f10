"""The Lambda layer as it ships: built as `sam build` builds it, zipped as `sam package` zips it,
extracted as Lambda extracts it, and imported the way the python3.12 runtime imports a handler.

Used by tests/infra/test_layer_build.py and bench/coldstart.py, so the test and the benchmark look at
the same artefact.

- `build_layer`: copies ``layers/slaclock`` to a scratch folder and runs its Makefile's
  ``build-SlaclockLayer`` target with ``ARTIFACTS_DIR`` (what ``sam build`` does for
  ``BuildMethod: makefile``); ``platform`` defaults to this machine's manylinux tag so that the result
  can be imported here (AWS gets ``manylinux2014_aarch64``, the Makefile's default).
- `package_zip`: the zip ``sam package`` uploads (entries without a date, i.e. 1980-01-01 00:00, Unix
  permissions 0755 in the external attributes: `samcli.lib.package.utils.make_zip`).
- `extract_as_lambda`: the zip unpacked with each entry's own date and mode, as it appears under
  ``/opt``: every file dated 1980-01-01.
- `cold_import`: one fresh python3.12 process with only the function's folder, the layer and the
  standard library on ``sys.path`` (``-I -S``), bytecode writes off (``-B``: ``/opt`` and ``/var/task``
  are read-only), the function's environment from template.yaml plus Lambda's own variables; it
  imports the modules and reports the time taken (wall and CPU), the modules loaded and every module
  it had to compile from source.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slaclock_local.resources import default_template_path

__all__ = [
    "ColdImport",
    "build_layer",
    "cold_import",
    "extract_as_lambda",
    "find_python312",
    "function_environments",
    "host_platform",
    "lambda_environment",
    "package_zip",
    "repository_root",
]


def repository_root() -> Path:
    return default_template_path().parent


def find_python312() -> str | None:
    """A CPython 3.12 interpreter (the Lambda runtime's version): ``$SLACLOCK_PYTHON312``, then
    ``python3.12`` on the PATH, then pyenv's versions; None if there is none."""
    candidates = [os.environ.get("SLACLOCK_PYTHON312", ""), shutil.which("python3.12") or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [
        str(p) for p in sorted((pyenv_root / "versions").glob("3.12*/bin/python3.12"), reverse=True)
    ]
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(  # noqa: S603 - our own interpreter probe
                [candidate, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.split() == ["cpython", "3", "12"]:
            return candidate
    return None


def host_platform() -> str:
    """The manylinux wheel tag of this machine (the layer is imported here, not on arm64)."""
    machine = platform.machine().lower()
    return f"manylinux2014_{'aarch64' if machine in ('arm64', 'aarch64') else machine}"


def build_layer(artifacts_dir: Path, *, python: str, platform_tag: str | None = None) -> Path:
    """Build the layer into `artifacts_dir` as ``sam build`` does; returns ``artifacts_dir/python``."""
    source = repository_root() / "layers" / "slaclock"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    scratch = artifacts_dir.parent / f"{artifacts_dir.name}.scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    # sam build works on a copy of ContentUri; leftovers of a local run (bytecode, egg-info) come along
    # exactly as they would with sam build.
    shutil.copytree(source, scratch)
    try:
        make = [  # the layer's Makefile, as sam build runs it (make from the PATH)
            "make", "--no-print-directory", "build-SlaclockLayer", f"PYTHON={python}",
            f"PLATFORM={platform_tag or host_platform()}",
        ]  # fmt: skip
        subprocess.run(  # noqa: S603
            make,
            cwd=scratch, env={**os.environ, "ARTIFACTS_DIR": str(artifacts_dir)}, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"the layer build failed:\n{err.stdout}\n{err.stderr}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return artifacts_dir / "python"


def package_zip(artifacts_dir: Path, zip_path: Path) -> Path:
    """Zip `artifacts_dir` the way ``sam package`` does on Unix
    (``samcli.lib.package.utils.make_zip_with_permissions``): each file as a `zipfile.ZipInfo` built
    from its path alone, so with no date (zipfile's default, 1980-01-01 00:00:00; SAM's comment says
    so: a date would change the zip's hash), Unix as the host system and the file's own mode; deflated."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, _, files in os.walk(artifacts_dir, followlinks=True):
            for name in files:
                full = os.path.join(root, name)
                info = zipfile.ZipInfo(os.path.relpath(full, artifacts_dir))
                info.create_system = 3
                info.external_attr = os.stat(full).st_mode << 16
                zf.writestr(info, Path(full).read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    return zip_path


def extract_as_lambda(zip_path: Path, dest: Path) -> Path:
    """Unpack `zip_path` into `dest` keeping each entry's date and permissions, as the layer appears
    under /opt (`zipfile.extractall` would date every file now)."""
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o7777
            if mode and not info.is_dir():
                target.chmod(mode)
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(target, (stamp, stamp))
    return dest


# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html ("Defined runtime environment
# variables"): what the python3.12 runtime sets besides the function's own variables.
def lambda_environment(function_name: str, *, task_root: Path, tracing: bool) -> dict[str, str]:
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/02/[$LATEST]00000000000000000000000000000000",
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "example-secret-not-a-credential",
        "AWS_SESSION_TOKEN": "example-session-token",
        "_HANDLER": "handler.lambda_handler",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        # Never a real account: no config file, no credentials file, and an endpoint nothing listens on.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    if tracing:  # Active tracing: the X-Ray daemon's address and the trace header of the invocation
        env |= {
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
            "_AWS_XRAY_DAEMON_PORT": "2000",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        }
    return env


def function_environments(parameters: Mapping[str, str]) -> dict[str, tuple[Path, dict[str, str]]]:
    """Each function of template.yaml: its code folder and its environment (Globals + its own), with
    the template's `parameters` (e.g. ``Tracing``), resolved by the local stack's resolver."""
    import boto3
    from moto import mock_aws

    from slaclock_local.resources import create_from_template

    template = default_template_path()
    saved = dict(os.environ)
    dummy = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    os.environ.update(dummy)
    try:
        with mock_aws():
            session = boto3.session.Session(region_name="eu-west-1")
            params = {"SenderEmail": "sla@example.com", **parameters}
            stack = create_from_template(template, session, parameters=params, stack_name="slaclock")
            out = {}
            for logical in stack.functions():
                props = stack.resource(logical).get("Properties") or {}
                out[logical] = (template.parent / props["CodeUri"], stack.environment(logical))
            return out
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class ColdImport:
    seconds: float  # wall time of the imports, in the fresh process (interpreter start-up excluded)
    cpu_seconds: float  # the process's CPU time over the same span (steadier on a shared machine)
    compiled: tuple[str, ...]  # files under the layer or the function folder compiled from source
    modules: frozenset[str]  # every module loaded once the imports are done


_PROBE = r"""
import importlib._bootstrap_external as ext, json, sys, time
function_dir, layer, names = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path[:0] = [function_dir, layer + "/lib/python3.12/site-packages", layer]
compiled = []
original = ext.SourceLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    if str(path).startswith((function_dir, layer)):
        compiled.append(str(path))
    return original(self, data, path, *args, **kwargs)
ext.SourceLoader.source_to_code = source_to_code
start, cpu_start = time.perf_counter(), time.process_time()
for name in names:
    __import__(name)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
print(json.dumps({"seconds": seconds, "cpu": cpu, "compiled": compiled, "modules": sorted(sys.modules)}))
"""


def cold_import(
    python: str,
    layer_site: Path,
    function_dir: Path,
    modules: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 120,
) -> ColdImport:
    """Import `modules` in a fresh python3.12 process as the Lambda runtime would (see module doc)."""
    proc = subprocess.run(  # noqa: S603 - the interpreter find_python312 found
        [python, "-I", "-S", "-B", "-c", _PROBE, str(function_dir), str(layer_site), *modules],
        env=dict(env), cwd=function_dir, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        # Powertools' Logger(log_uncaught_exceptions=True) logs the traceback as JSON on stdout
        output = f"{proc.stdout}\n{proc.stderr}".strip()
        raise ImportError(f"importing {', '.join(modules)} from {function_dir.name} failed:\n{output}")
    doc: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return ColdImport(doc["seconds"], doc["cpu"], tuple(doc["compiled"]), frozenset(doc["modules"]))


if __name__ == "__main__":  # pragma: no cover - a manual check: python -m slaclock_local.layer OUT
    py = find_python312()
    if py is None:
        sys.exit("no python3.12 found")
    print(build_layer(Path(sys.argv[1]).resolve(), python=py))
