"""`slaclock diff`: the notices each policy would have sent, the page, and one pass by ticket.

Calendar: Paris, Monday to Friday 09:00-17:00 (UTC+1 in January). Both policies: resolution within
8h; an escalation at 150% of each target. Old: first response within 2h, warning at 50%. New: within
1h, warning at 50%. Evaluated at `now` = Monday 17:30 Paris.

- Ticket 1, created Monday 09:00, answered 10:45 (1h45 of business time).
  Old first response: warning 10:00 (sent), breach 11:00 and escalation 12:00 after the answer (not
  sent): met. New: warning 09:30, breach 10:00, escalation 10:30, all before the answer: missed.
  Resolution (both): due 17:00 Monday, unsolved at 17:30: missed, breach sent; escalation Tuesday 13:00.
- Ticket 2, created Monday 15:00, never answered (2h of business time by 17:00).
  Old first response: warning 16:00, breach 17:00 sent, escalation Tuesday 10:00 not: missed, due
  17:00. New: warning 15:30, breach 16:00, escalation 16:30 sent: missed, due 16:00. Resolution: open.

Old: 2 warnings, 2 breaches, 0 escalations. New: 2 warnings, 3 breaches, 2 escalations. Monday's
compliance: old 1 met + 2 missed (33.33%), new 0 met + 3 missed (0.00%): -33.33 points.
"""

import csv
import json
import pathlib
from html.parser import HTMLParser

import pytest
from slaclock.adapters.config_file import load_config_file
from slaclock.cli import main
from slaclock.commands import _stream
from slaclock.engine.events import parse_event
from slaclock.engine.policy_diff import compare

CONFIG = """\
calendars:
  paris:
    timezone: Europe/Paris
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"],
            fri: ["09:00-17:00"]}
levels:
  standard:
    calendar: paris
    targets: {first_response: {within: 2h, warn_at: 50%}, resolution: {within: 8h}}
    escalations:
      - {at: 150%, notify: [head@example.com]}
rules:
  - {name: Everyone else, set_level: standard}
"""

EVENTS = [
    {"id": "a1", "ticket_id": "1", "type": "created", "at": "2026-01-05T08:00:00Z",
     "ticket": {"status": "open", "department": "billing"}},
    {"id": "a2", "ticket_id": "1", "type": "agent_replied", "at": "2026-01-05T09:45:00Z"},
    {"id": "b1", "ticket_id": "2", "type": "created", "at": "2026-01-05T14:00:00Z",
     "ticket": {"status": "open", "department": "sales"}},
    {"id": "c1", "ticket_id": "3", "type": "created", "at": "2026-01-05T18:00:00Z",
     "ticket": {"status": "open"}},  # after `now`: left out under both
]  # fmt: skip
NOW = "2026-01-05T16:30:00Z"


@pytest.fixture
def files(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(CONFIG, encoding="utf-8")
    new.write_text(CONFIG.replace("within: 2h, warn_at", "within: 1h, warn_at"), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return old, new, events


def _diff(old, new, events, out, *more):
    argv = ["diff", "--config", str(old), "--config", str(new), "--events", str(events), "--out", str(out)]
    return main([*argv, "--now", NOW, *more])


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_notices_each_policy_would_have_sent(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert _diff(*files, out) == 0
    notices = {r["kind"]: r for r in _rows(out / "notices_diff.csv")}
    assert [(k, r["old"], r["new"], r["delta"]) for k, r in notices.items()] == [
        ("warning", "2", "2", "+0"),
        ("breach", "2", "3", "+1"),
        ("escalation", "0", "2", "+2"),
    ]
    printed = capsys.readouterr().out
    assert "compliance 33.33%; 2 warnings, 2 breaches, 0 escalations" in printed
    assert "compliance 0.00%; 2 warnings, 3 breaches, 2 escalations" in printed
    assert "changed: 2 clock cycles (met->missed 1, same-status 1)" in printed


def test_changes_name_the_level_and_the_rule_under_each_policy(files, tmp_path):
    out = tmp_path / "out"
    assert _diff(*files, out) == 0
    changes = _rows(out / "changes.csv")
    assert [(c["ticket_id"], c["metric"], c["cycle"], c["change"]) for c in changes] == [
        ("1", "first_response", "1", "met->missed"),
        ("2", "first_response", "1", "same-status"),
    ]
    waiting = changes[1]
    assert (waiting["old_due_at"], waiting["new_due_at"]) == ("2026-01-05T16:00:00Z", "2026-01-05T15:00:00Z")
    assert {(c["old_level"], c["new_level"], c["old_rule"], c["new_rule"]) for c in changes} == {
        ("standard", "standard", "Everyone else", "Everyone else")
    }
    [monday] = _rows(out / "compliance_diff.csv")
    assert (monday["date"], monday["old_met"], monday["old_missed"], monday["old_compliance_pct"]) == (
        "2026-01-05", "1", "2", "33.33",
    )  # fmt: skip
    assert (monday["new_met"], monday["new_missed"], monday["delta_pct"]) == ("0", "3", "-33.33")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.rows, self.bars, self.changes, self.cards, self._card = [], {}, [], [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "tr" and "data-date" in a:
            self.rows[a["data-date"]] = (a.get("data-old"), a.get("data-new"))
        if tag == "rect" and "data-side" in a:
            self.bars.append((a["data-side"], a["data-date"], a["data-compliance"]))
        if tag == "tr" and "data-ticket" in a:
            self.changes.append((a["data-ticket"], a["data-change"]))
        if tag == "div" and a.get("class") == "card":
            self._card = []

    def handle_data(self, data):
        if self._card is not None:
            self._card.append(data)

    def handle_endtag(self, tag):
        if tag == "div" and self._card is not None:
            self.cards.append(tuple(self._card[:2]))
            self._card = None


def test_the_page_draws_the_comparison_and_needs_nothing_else(files, tmp_path):
    out = tmp_path / "out"
    assert _diff(*files, out) == 0
    html = (out / "diff.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    # each side's bar and the table row carry the CSV's figures
    assert sorted(page.bars) == [("new", "2026-01-05", "0.00"), ("old", "2026-01-05", "33.33")]
    assert page.rows == {"2026-01-05": ("33.33", "0.00")}
    assert page.changes == [("1", "met->missed"), ("2", "same-status")]
    # the notice counts, old cards first, then new
    counted = [c for c in page.cards if c[0] in ("Warnings", "Breaches", "Escalations")]
    assert counted == [("Warnings", "2"), ("Breaches", "2"), ("Escalations", "0"),
                       ("Warnings", "2"), ("Breaches", "3"), ("Escalations", "2")]  # fmt: skip
    # self-contained: no script, no external asset
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe")]
    assert not [
        a
        for _, a in page.tags
        if any(str(v).startswith("http") for k, v in a.items() if k in ("src", "href"))
    ]


def test_a_ticket_id_is_escaped_on_the_page(files, tmp_path):
    old, new, _ = files
    hostile = [dict(e, ticket_id="<b onmouseover=x>") for e in EVENTS[:2]]
    events = tmp_path / "hostile.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in hostile), encoding="utf-8")
    assert _diff(old, new, events, tmp_path / "out") == 0
    html = (tmp_path / "out" / "diff.html").read_text(encoding="utf-8")
    assert "<b onmouseover" not in html and "&lt;b onmouseover=x&gt;" in html


def test_partitioned_json_lines_and_a_json_array_give_the_same_bytes(files, tmp_path, monkeypatch):
    old, new, events = files
    as_array = tmp_path / "events.json"
    as_array.write_text(json.dumps(EVENTS), encoding="utf-8")
    assert _diff(old, new, as_array, tmp_path / "array", "--quiet") == 0
    monkeypatch.setattr(_stream, "PARTITION_BYTES", 150)  # a partition per ticket or so
    assert _diff(old, new, events, tmp_path / "lines", "--quiet") == 0
    for name in ("changes.csv", "compliance_diff.csv", "notices_diff.csv", "diff.html"):
        assert (tmp_path / "lines" / name).read_bytes() == (tmp_path / "array" / name).read_bytes(), name
    assert not list((tmp_path / "lines").glob("*.part"))


def test_compare_is_the_same_comparison_for_callers_with_events_in_memory(files):
    old, new, _ = files
    from datetime import UTC, datetime

    diff, changes = compare(
        load_config_file(str(old)),
        load_config_file(str(new)),
        [parse_event(e) for e in EVENTS],
        now=datetime(2026, 1, 5, 16, 30, tzinfo=UTC),
    )
    assert [(c.ticket_id, c.change) for c in changes] == [("1", "met->missed"), ("2", "same-status")]
    assert (diff.old.notices, diff.new.notices) == (
        {"warning": 2, "breach": 2, "escalation": 0},
        {"warning": 2, "breach": 3, "escalation": 2},
    )
    assert (diff.events, diff.events_after_now) == (3, 1)


def test_the_examples_compare_without_error(tmp_path):
    root = pathlib.Path(__file__).resolve().parents[3]
    out = tmp_path / "out"
    code = main(["diff", "--config", str(root / "examples" / "sla.yaml"), "--config",
                 str(root / "examples" / "sla.yaml"), "--events", str(root / "examples" / "events.jsonl"),
                 "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    notices = _rows(out / "notices_diff.csv")
    assert all(r["old"] == r["new"] and r["delta"] == "+0" for r in notices)
    assert sum(int(r["old"]) for r in notices) > 0  # the sample does send notices


def test_an_empty_history_compares_to_nothing_as_replay_does(files, tmp_path):
    old, new, _ = files
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["diff", "--config", str(old), "--config", str(new), "--events", str(empty), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    assert _rows(out / "changes.csv") == [] and _rows(out / "compliance_diff.csv") == []
    assert {r["kind"]: (r["old"], r["new"]) for r in _rows(out / "notices_diff.csv")} == {
        "warning": ("0", "0"), "breach": ("0", "0"), "escalation": ("0", "0"),
    }  # fmt: skip
    assert "No event" in (out / "diff.html").read_text(encoding="utf-8")
