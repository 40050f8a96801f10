"""Loading calendars and SLA levels: targets, pause statuses, warnings and escalation ladders."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from slaclock.engine.actions import CAPABILITIES, STEPS, Action, parse_actions
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.config.model import Escalation, Metric, SlaLevel, Target, metric_of
from slaclock.engine.config.shapes import (
    _ESCALATION_KEYS,
    _LEVEL_KEYS,
    _LOCAL_HOSTS,
    _NOTIFY_KEYS,
    _TARGET_KEYS,
    _join,
    _Shapes,
    zone_hint,
)
from slaclock.engine.durations import format_duration
from slaclock.engine.errors import ConfigError, ValidationError
from slaclock.engine.vocabulary import STATUSES


class _Levels(_Shapes):
    def actions(self, value: Any, path: str) -> tuple[Action, ...] | None:
        """A step's validated actions; every problem is reported under `path` (None if any)."""
        try:
            return parse_actions(value, self.source_providers, capabilities=CAPABILITIES)
        except ConfigError as e:
            for p, message in e.errors:
                self.err(path + p.removeprefix("actions"), message)
            return None

    def breach_recipients(self, value: Any, path: str) -> tuple[tuple[str, ...] | None, dict[str, int]]:
        """A breach list: recipients, and ``{to: <recipient>, notify_when_breached_at_least: N}`` for
        one told only when N or more of its clocks are breached at once (not about each breach)."""
        if not isinstance(value, list):
            return self.recipients(value, path), {}
        plain: list[Any] = []
        thresholds: dict[str, int] = {}
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                plain.append(item)
                continue
            self.check_keys(item, f"{path}[{i}]", ("to", "notify_when_breached_at_least"))
            n = item.get("notify_when_breached_at_least")
            if isinstance(n, bool) or not isinstance(n, int) or n < 2:
                self.err(f"{path}[{i}].notify_when_breached_at_least", "must be a whole number, 2 or more")
            to = self.recipients([item.get("to")], f"{path}[{i}].to")
            if to and isinstance(n, int):
                thresholds[to[0]] = n
        return self.recipients(plain, path), thresholds

    def step_actions(self, value: Any, path: str) -> dict[str, tuple[Action, ...]] | None:
        d = self.mapping(value, path, f"a mapping of action lists by step ({', '.join(STEPS)})")
        if d is None:
            return None
        self.check_keys(d, path, STEPS)
        out: dict[str, tuple[Action, ...]] = {}
        ok = True
        for step in STEPS:
            if step in d:
                parsed = self.actions(d[step], f"{path}.{step}")
                ok = ok and parsed is not None
                out[step] = parsed or ()
        return out if ok else None

    def calendars(self, value: Any) -> dict[str, BusinessCalendar]:
        self.calendars_readable = isinstance(value, Mapping)
        if value is None:
            return {}
        out: dict[str, BusinessCalendar] = {}
        for name, item in self.named(value, "calendars", "calendars"):
            path = f"calendars.{name}"
            self.calendar_names.add(name)
            try:
                out[name] = BusinessCalendar.from_dict(item, path=path)
            except ValidationError as e:
                for p, message in e.errors:
                    inside = p == path or p.startswith((path + ".", path + "["))
                    where = p if inside else _join(path, p)
                    zone = item.get("timezone") if isinstance(item, Mapping) else None
                    hint = zone_hint(zone) if where == f"{path}.timezone" else None
                    self.err(where, f"{message}; {hint}" if hint else message)
            except ValueError as e:
                self.err(path, str(e))
            else:
                self.zone_warning(out[name].timezone, f"{path}.timezone")
        if not self.calendar_names and isinstance(value, Mapping):
            self.err("calendars", "at least one calendar is needed")
        return out

    # -- levels ----------------------------------------------------------------------------------------

    def levels(self, value: Any, where: str = "levels") -> dict[str, SlaLevel]:
        """The levels of section `where` (``levels``, or an agreement's ``agreements.<name>.levels``)."""
        if value is None:
            return {}
        out: dict[str, SlaLevel] = {}
        entries = self.named(value, where, "levels")
        if not entries and isinstance(value, Mapping):
            self.err(where, "at least one level is needed")
        for name, item in entries:
            level = self.level(name, item, f"{where}.{name}")
            if level is not None:
                out[name] = level
        for name, level in out.items():  # the walk names a followed calendar "<level> @ <calendar>"
            for value, calendar in level.calendar_map.items():
                if f"{name} @ {calendar}" in out and calendar != level.calendar:
                    self.err(
                        f"{where}.{name}.calendar_map.{value}",
                        f"the level {name} @ {calendar} exists: rename it (inside, a level following a "
                        "calendar goes by that name)",
                    )
        return out

    def level(self, name: str, value: Any, path: str) -> SlaLevel | None:
        d = self.mapping(
            value, path, "a level: {calendar, targets, notify, escalations, unassigned, actions, ...}"
        )
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _LEVEL_KEYS)
        calendar = self.calendar_ref(d.get("calendar"), f"{path}.calendar")
        targets = self.targets(d.get("targets"), f"{path}.targets")
        warning: tuple[str, ...] | None = ("assignee",)
        breach: tuple[str, ...] | None = ("assignee",)
        thresholds: dict[str, int] = {}
        if "notify" in d:
            notify = self.mapping(d["notify"], f"{path}.notify", "a mapping {warning: [...], breach: [...]}")
            if notify is not None:
                self.check_keys(notify, f"{path}.notify", _NOTIFY_KEYS)
                if "warning" in notify:
                    warning = self.recipients(notify["warning"], f"{path}.notify.warning")
                if "breach" in notify:
                    breach, thresholds = self.breach_recipients(notify["breach"], f"{path}.notify.breach")
        escalations: tuple[Escalation, ...] = ()
        if "escalations" in d:
            escalations = self.escalations(d["escalations"], f"{path}.escalations", targets or {})
        unassigned: tuple[str, ...] | None = ()
        if "unassigned" in d:
            unassigned = self.recipients(d["unassigned"], f"{path}.unassigned")
            if unassigned is not None and "assignee" in unassigned:
                self.err(
                    f"{path}.unassigned", "stands in for assignee: list e-mail addresses or lead:<department>"
                )
        responses = self.responses(d["responses"], f"{path}.responses") if "responses" in d else None
        follow = self.calendar_follow(d, path)
        actions: dict[str, tuple[Action, ...]] | None = {}
        if "actions" in d:
            actions = self.step_actions(d["actions"], f"{path}.actions")
        answers = d.get("interim_reply_answers", False)
        if not isinstance(answers, bool):
            self.err(f"{path}.interim_reply_answers", "must be true or false")
        if (
            len(self.errors) != before
            or actions is None
            or calendar is None
            or not targets
            or warning is None
            or breach is None
            or unassigned is None
            or follow is None
        ):
            return None
        return SlaLevel(
            name=name,
            calendar=calendar,
            targets=targets,
            notify_warning=warning,
            notify_breach=breach,
            escalations=escalations,
            unassigned=unassigned,
            responses=responses,
            calendar_from=follow[0],
            calendar_map=follow[1],
            interim_reply_answers=answers,
            breach_thresholds=thresholds,
            actions=actions,
        )

    def pause_statuses(self, values: tuple[str, ...], path: str) -> tuple[str, ...] | None:
        """`values` casefolded (statuses compare ignoring case, as rule conditions do); one outside
        the vocabulary would never match a ticket, so it is an error naming the vocabulary."""
        out = tuple(v.casefold() for v in values)
        before = len(self.errors)
        for i, (given, status) in enumerate(zip(values, out, strict=True)):
            if status in self.statuses:
                continue
            close = difflib.get_close_matches(status, sorted(self.statuses), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.err(
                f"{path}[{i}]",
                f"{given!r} is not a ticket status: {hint}statuses are {', '.join(STATUSES)} and the values "
                "of a source's options.status_map (map a helpdesk's own status there to pause on it)",
            )
        return out if len(self.errors) == before else None

    def targets(self, value: Any, path: str) -> dict[Metric | str, Target] | None:
        metrics = ", ".join(self.metric_order or list(Metric))
        if value is None:
            self.err(path, f"required: a target for at least one of {metrics}")
            return None
        d = self.mapping(value, path, f"a mapping of targets by metric ({metrics})")
        if d is None:
            return None
        if not d:
            self.err(path, f"a target for at least one of {metrics} is needed")
            return None
        out: dict[Metric | str, Target] = {}
        for key, item in d.items():
            if not isinstance(key, str) or key not in (self.metric_names or set(Metric)):
                self.err(_join(path, key), f"unknown metric {key!r} ({metrics})")
                continue
            target = self.target(item, f"{path}.{key}")
            if target is not None:
                out[metric_of(key)] = target
        return out

    def target(self, value: Any, path: str) -> Target | None:
        d = self.mapping(value, path, "a target: {within, warn_at | warn_before, pause_when_status}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _TARGET_KEYS)
        within = None
        if "within" not in d:
            self.err(f"{path}.within", "required: the target duration, e.g. 8h")
        else:
            within = self.duration(d["within"], f"{path}.within", positive=True)
        warn_at = warn_before = None
        if "warn_at" in d and "warn_before" in d:
            self.err(path, "warn_at and warn_before are exclusive: keep one")
        if "warn_at" in d:
            warn_at = self.share(d["warn_at"], f"{path}.warn_at")
            if warn_at is not None and not 0 < warn_at <= 1:
                self.err(f"{path}.warn_at", f"{d['warn_at']!r} must be above 0% and at most 100%")
        if "warn_before" in d:
            warn_before = self.duration(d["warn_before"], f"{path}.warn_before", positive=True)
            if warn_before is not None and within is not None and warn_before >= within:
                self.err(
                    f"{path}.warn_before",
                    f"{d['warn_before']!r} must be shorter than within ({format_duration(within)})",
                )
        pause: tuple[str, ...] | None = ()
        if "pause_when_status" in d:
            pause = self.string_list(d["pause_when_status"], f"{path}.pause_when_status")
            if pause is not None:
                pause = self.pause_statuses(pause, f"{path}.pause_when_status")
        if len(self.errors) != before or within is None or pause is None:
            return None
        return Target(
            within=within, warn_at=warn_at, warn_before=warn_before, pause_when_status=frozenset(pause)
        )

    def escalations(
        self, value: Any, path: str, targets: Mapping[Metric | str, Target]
    ) -> tuple[Escalation, ...]:
        if not isinstance(value, list):
            self.err(path, "must be a list of steps: {at | before_due | after_due, notify, webhook, actions}")
            return ()
        out = []
        for i, item in enumerate(value):
            step = self.escalation(item, f"{path}[{i}]", targets)
            if step is not None:
                out.append(step)
        return tuple(out)

    def one_instant(self, d: Mapping[str, Any], path: str) -> None:
        when = [k for k in ("at", "before_due", "after_due") if k in d]
        if not when:
            self.err(path, "needs one of at (a share of the target), before_due or after_due (durations)")
        elif len(when) > 1:
            self.err(path, f"{' and '.join(when)} are exclusive: keep one")

    def escalation(self, value: Any, path: str, targets: Mapping[Metric | str, Target]) -> Escalation | None:
        d = self.mapping(value, path, "a step: {at | before_due | after_due, notify, webhook, actions}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _ESCALATION_KEYS)
        self.one_instant(d, path)
        at = before_due = after_due = None
        if "at" in d:
            at = self.share(d["at"], f"{path}.at")
            if at is not None and at <= 0:
                self.err(f"{path}.at", "must be above 0%")
        if "before_due" in d:
            before_due = self.duration(d["before_due"], f"{path}.before_due")
            for metric, target in targets.items():
                if before_due is not None and before_due >= target.within:
                    self.err(
                        f"{path}.before_due",
                        f"{d['before_due']!r} is not shorter than targets.{metric}.within "
                        f"({format_duration(target.within)})",
                    )
        if "after_due" in d:
            after_due = self.duration(d["after_due"], f"{path}.after_due")
        notify: tuple[str, ...] | None = ()
        if "notify" in d:
            notify = self.recipients(d["notify"], f"{path}.notify")
        webhook = None
        if "webhook" in d:
            webhook = self.webhook(d["webhook"], f"{path}.webhook")
        actions: tuple[Action, ...] | None = ()
        if "actions" in d:
            actions = self.actions(d["actions"], f"{path}.actions")
        if notify == () and "webhook" not in d and actions == ():
            self.err(path, "needs notify recipients, a webhook or actions")
        if len(self.errors) != before or notify is None or actions is None:
            return None
        return Escalation(
            notify=notify, at=at, before_due=before_due, after_due=after_due, webhook=webhook, actions=actions
        )

    def webhook(self, value: Any, path: str) -> str | None:
        url = urlsplit(value) if isinstance(value, str) else None
        if (
            url is not None
            and url.hostname
            and (url.scheme == "https" or (url.scheme == "http" and url.hostname in _LOCAL_HOSTS))
        ):
            return str(value)
        self.err(path, f"{value!r} is not an https:// URL")
        return None
