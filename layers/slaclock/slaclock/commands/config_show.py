"""`slaclock config show`: print the configuration document in force, as it was pushed.

Prints the stored text to stdout and returns 0; nothing pushed yet or the bucket unreachable: a
one-line message on stderr and 2. (Where the document lives: `slaclock.commands._deployment`.)
"""

from __future__ import annotations

import argparse
import sys

from slaclock.engine.errors import SlaclockError


def run(args: argparse.Namespace) -> int:
    from slaclock.commands._deployment import deployed_config_store

    try:
        where = {"stack": getattr(args, "stack", None), "region": getattr(args, "region", None)}
        store = deployed_config_store(**where)
        stored = store.fetch()
    except SlaclockError as err:
        message = err.messages()[0] if hasattr(err, "messages") else str(err)
        print(f"slaclock config show: {message}", file=sys.stderr)
        return 2
    sys.stdout.write(stored.text if stored.text.endswith("\n") else stored.text + "\n")
    return 0
