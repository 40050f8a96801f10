"""`commands.replay.read_events` (the replay command's reader: orjson first, then the decoder of every
JSON text slaclock reads) against plain `engine.json_input.loads` + `parse_event`, line by line: blank
lines, a BOM, non-UTF-8 bytes, extra data, non-JSON whitespace, non-objects, and what orjson refuses
or decodes otherwise (NaN, an integer beyond 64 bits, a float beyond the double range, a lone
surrogate, repeated keys, escaped and raw non-ASCII text, nesting beyond slaclock's 64 levels, which
orjson accepts up to 1,024, and many brackets inside a string)."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slaclock.commands import _io
from slaclock.commands._io import Progress, ReadStats, read_events
from slaclock.engine.errors import EventError
from slaclock.engine.events import parse_event
from slaclock.engine.json_input import JsonLimitError, loads

LINES = [
    '{"id":"a","ticket_id":"1","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"status":"open"}}',
    '  {"id":"b","ticket_id":"1","type":"agent_replied","at":"2026-03-02T09:30:00Z"}  ',
    '{"id":"c","ticket_id":"1","type":"solved","at":"2026-03-02T10:00:00Z"} {"id":"d"}',
    '{"id":"e","ticket_id":"2","type":"created","at":"2026-03-02T09:00:00Z"}\u00a0',
    '{"id":"f","ticket_id":"2","type":"created","at":"2026-03-02T09:00:00Z"}\t\r',
    '[1, 2]', '"text"', '{"id": 1', '', '   ', '\u00a0', 'NaN', '{"id":"g"}', '{}',
    '{"id":"h","ticket_id":"3","type":"created","at":"2026-03-02T09:00:00+05:30","ticket":null}',
    '{"id":"i","ticket_id":"4","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"custom":{"n":123456789012345678901234567890,"m":-9223372036854775809,"k":18446744073709551615}}}',
    '{"id":"j","ticket_id":"5","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"subject":"\\ud800"}}',
    '{"id":"k","ticket_id":"6","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"custom":{"x":1e400,"y":NaN}}}',
    '{"id":"l","ticket_id":"7","type":"created","id":"m","at":"2026-03-02T09:00:00Z","ticket":{"status":"a","status":"b"}}',
    '{"id":"n","ticket_id":"8","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"subject":"caf\\u00e9,caf\u00e9,\\ud83d\\ude00"}}',
    '{"id":"o","ticket_id":"9","type":"created","at":"2026-03-02T09:00:00Z",'
    '"ticket":{"custom":{"f":0.1,"g":-0.0,"h":1.7976931348623157e308}}}',
    '{"id":"p","ticket_id":"10","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"custom":{"x":'
    + "[" * 62 + "]" * 62 + "}}}",  # 64 levels in all: the limit, accepted
    '{"id":"q","ticket_id":"11","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"custom":{"x":'
    + "[" * 63 + "]" * 63 + "}}}",  # 65 levels: orjson takes it, slaclock does not
    '{"id":"r","ticket_id":"12","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"custom":{"x":'
    + "[" * 3000 + "]" * 3000 + "}}}",  # a RecursionError inside the standard library's decoder
    '{"id":"s","ticket_id":"13","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"subject":"'
    + "[{" * 70 + '"}}',  # many brackets, all inside a string: shallow
    '{"id":"t","ticket_id":"14","type":"created","at":"2026-03-02T09:00:00Z","ticket":{"custom":{"n":'
    + "9" * 39 + ',"m":' + "9" * 38 + "}}}",
]  # fmt: skip


def test_the_reader_parses_with_orjson():
    """The CLI depends on orjson (pyproject.toml): the reader's fast parser is the installed one."""
    import orjson

    assert _io._fast_loads is orjson.loads


@pytest.mark.parametrize("block", [1, 150, _io.READ_BLOCK])  # a line, a few, the whole file in a block
@given(st.lists(st.sampled_from(LINES), max_size=12), st.booleans())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_read_events_equals_json_loads_and_parse_event_line_by_line(tmp_path, monkeypatch, block, lines, bom):
    monkeypatch.setattr(_io, "READ_BLOCK", block)  # blocks with and without a run of 19 digits
    path = tmp_path / "events.jsonl"
    # What iterating the file gives (it splits at \n only); the first line is an object, or the file
    # would be read as a JSON array.
    pieces = [line + "\n" for line in [LINES[0], *lines]]
    if bom:
        pieces[0] = "\ufeff" + pieces[0]
    path.write_bytes("".join(pieces).encode("utf-8") + b"\xff\xfe\n")
    reported: list[str] = []
    stats = ReadStats()
    events = read_events(path, strict=False, report=reported.append, progress=Progress(io.StringIO(), False),
                         stats=stats)  # fmt: skip
    expected_events, expected_lines = [], []
    for number, line in enumerate([*pieces, None], 1):
        if line is None:  # the undecodable last line
            expected_lines.append(f"{path}:{number}: not UTF-8 text")
            continue
        text = line.lstrip("\ufeff") if number == 1 else line
        if not text or text.isspace():
            continue
        try:
            expected_events.append(parse_event(loads(text.rstrip("\r\n"))))
        except JsonLimitError as e:
            expected_lines.append(f"{path}:{number}: {e.msg}")
        except json.JSONDecodeError as e:
            expected_lines.append(f"{path}:{number}: not valid JSON ({e.msg} at column {e.colno})")
        except EventError as e:
            expected_lines.append(f"{path}:{number}: {e.what}: " + "; ".join(e.messages()))
    assert events == expected_events
    assert [re.sub("^skipped ", "", m) for m in reported] == expected_lines
    assert stats.lines == len(pieces) + 1 and stats.events == len(events)
