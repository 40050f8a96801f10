"""`slaclock config push --config sla.yaml`: validate a configuration and upload it to the deployment.

The file is validated first with the same parser the functions use; an invalid one prints ``FILE:
invalid configuration (N errors)`` and every ``path: message`` to stderr, uploads nothing (the
configuration in force stays) and returns 1. A valid one is written to the data bucket (see
`slaclock.commands._deployment` for where) and the functions pick it up within a minute; prints
``pushed s3://BUCKET/KEY (version V)`` and returns 0. Cannot read the file or reach the bucket: 2.
``--config -`` reads standard input (as YAML).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slaclock.engine.errors import ConfigError, SlaclockError


def run(args: argparse.Namespace) -> int:
    path = Path(args.config)
    try:
        text = sys.stdin.read() if args.config == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        print(f"slaclock config push: cannot read {path}: {err}", file=sys.stderr)
        return 2
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    from slaclock.commands._deployment import deployed_config_store

    try:
        where = {"stack": getattr(args, "stack", None), "region": getattr(args, "region", None)}
        store = deployed_config_store(**where)
        bucket, key = store.bucket, store.key
        stored = store.push(text, fmt)
    except ConfigError as err:
        print(
            f"{path}: {err.what} ({len(err.errors)} error{'s' if len(err.errors) != 1 else ''})",
            file=sys.stderr,
        )
        for line in err.messages():
            print(line, file=sys.stderr)
        print("nothing was uploaded: the configuration in force is unchanged", file=sys.stderr)
        return 1
    except SlaclockError as err:
        print(f"slaclock config push: {err}", file=sys.stderr)
        return 2
    version = f" (version {stored.version_id})" if stored.version_id else ""
    print(f"pushed s3://{bucket}/{key}{version}")
    return 0
