"""Loading the webhook sources (providers, secrets, mappings, ticket prefixes) and report subscriptions."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from slaclock.engine.config.model import AT, CUSTOMER, TICKET_URL_FIELDS, Metric, ReportSubscription, Source
from slaclock.engine.config.shapes import (
    _API_KEYS,
    _LOCAL_HOSTS,
    _REPORT_KEYS,
    _SECRET_KEYS,
    _SOURCE_KEYS,
    _SOURCE_NAME,
    _TICKET_PREFIX,
    _join,
    _kind,
    _names,
    _Shapes,
)
from slaclock.engine.vocabulary import GROUP_FIELDS, PERIODS, PROVIDERS


class _Sources(_Shapes):
    # -- sources, reports ------------------------------------------------------------------------------

    def sources(self, value: Any) -> dict[str, Source]:
        if value is None:
            return {}
        out: dict[str, Source] = {}
        for name, item in self.named(value, "sources", "sources"):
            path = f"sources.{name}"
            if not _SOURCE_NAME.fullmatch(name):
                self.err(path, "a source name is part of the webhook URL: letters, digits, '-' and '_' only")
            source = self.source(name, item, path)
            if source is not None:
                out[name] = source
        self.check_ticket_prefixes(out)
        return out

    def check_ticket_prefixes(self, sources: Mapping[str, Source]) -> None:
        """Warn about every source whose `ticket_prefix` another source shares (both empty included).

        Their ticket ids share one namespace: ticket 11 of one helpdesk and ticket 11 of another would
        be ONE slaclock ticket. A warning, not an error: a configuration that worked before the setting
        existed keeps loading, and two sources of ONE helpdesk (a second webhook, a gap-free secret
        rotation) must share their prefix."""
        if len(sources) < 2:
            return
        by_prefix: dict[str, list[str]] = {}
        for name, source in sources.items():
            by_prefix.setdefault(source.ticket_prefix, []).append(name)
        for prefix, names in by_prefix.items():
            if len(names) < 2:
                continue
            shown = repr(prefix) if prefix else "not set"
            for name in names:
                others = ", ".join(n for n in names if n != name)
                suggestion = name[:31] + ("" if name[:31].endswith(("-", "_")) else "-")
                self.warnings.append(
                    (
                        f"sources.{name}.ticket_prefix",
                        f"{shown}, the same as {others}: the same ticket id from two of these helpdesks "
                        "becomes ONE ticket (their events mixed into one history); give each helpdesk its "
                        f'own prefix, e.g. ticket_prefix: "{suggestion}" (sources of ONE helpdesk may '
                        "share one)",
                    )
                )

    def source(self, name: str, value: Any, path: str) -> Source | None:
        d = self.mapping(value, path, "a source: {provider, secret, mapping, options, ticket_prefix}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _SOURCE_KEYS)
        provider = d.get("provider")
        if provider is None:
            self.err(f"{path}.provider", f"required: one of {', '.join(PROVIDERS)}")
        elif provider not in PROVIDERS:
            self.err(f"{path}.provider", f"unknown provider {provider!r} ({', '.join(PROVIDERS)})")
        ssm, arn = self.secret(d.get("secret"), f"{path}.secret")
        mapping = None
        if "mapping" in d:
            if provider == "generic":
                mapping = self.jmespath_mapping(d["mapping"], f"{path}.mapping")
            else:
                self.err(f"{path}.mapping", f"only the generic provider takes a mapping, not {provider}")
        options: Mapping[str, Any] = {}
        if "options" in d:
            options = self.mapping(d["options"], f"{path}.options", "a mapping") or {}
            self.source_timezone(options, f"{path}.options.timezone")
        prefix = d.get("ticket_prefix", "")
        if not isinstance(prefix, str) or not _TICKET_PREFIX.fullmatch(prefix):
            self.err(
                f"{path}.ticket_prefix",
                f"must be at most 32 letters, digits, '-', '_', '.' or ':' (e.g. \"hs-\"), not {prefix!r}",
            )
        ticket_url = self.ticket_url(d["ticket_url"], f"{path}.ticket_url") if "ticket_url" in d else None
        api_url = api_secret = None
        api_users: tuple[str, ...] = ()
        if "api" in d:
            api_url, api_secret = self.api(d["api"], f"{path}.api", provider)
            users = d["api"].get("users") if isinstance(d["api"], Mapping) else None
            if users is not None:
                api_users = tuple(str(u) for u in self.string_list(users, f"{path}.api.users") or ())
        if len(self.errors) != before or not isinstance(provider, str):
            return None
        return Source(
            name=name,
            provider=provider,
            secret_ssm_parameter=ssm,
            secret_arn=arn,
            mapping=mapping,
            options=dict(options),
            ticket_prefix=prefix,
            ticket_url=ticket_url,
            api_url=api_url,
            api_secret=api_secret,
            api_users=api_users,
        )

    def ticket_url(self, value: Any, path: str) -> str | None:
        """A link template: an absolute http(s) URL whose only placeholders are `TICKET_URL_FIELDS`,
        each written ``{name}`` (no format spec or conversion); ``{{`` and ``}}`` are literal braces."""
        example = '"https://acme.zendesk.com/agent/tickets/{ticket_number}"'
        if not isinstance(value, str) or not value.strip():
            self.err(path, f"must be a URL template such as {example}, not {value!r}")
            return None
        if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
            self.err(path, f"must be an absolute http(s) URL without spaces, e.g. {example}: {value!r}")
            return None
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as e:
            self.err(path, f"{e} in {value!r} (write a literal brace as {{{{ or }}}})")
            return None
        allowed = ", ".join("{" + f + "}" for f in TICKET_URL_FIELDS)
        for _, field_name, spec, conversion in parts:
            if field_name is None:
                continue
            if field_name not in TICKET_URL_FIELDS:
                self.err(path, f"unknown placeholder {{{field_name}}}: the placeholders are {allowed}")
            elif spec or conversion:
                self.err(path, f"placeholder {{{field_name}}} takes no format or conversion")
        return value

    def api(self, value: Any, path: str, provider: Any) -> tuple[str | None, str | None]:
        """The helpdesk's API for write-backs: ``{url: https://..., secret: {secrets_manager: name}}``."""
        d = self.mapping(value, path, "{url: https://<your helpdesk>, secret: {secrets_manager: name}}")
        if d is None:
            return None, None
        self.check_keys(d, path, _API_KEYS)
        if provider == "generic":
            self.err(path, "a generic source has no API slaclock can write back to")
        url = d.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if (
            parts is None
            or not parts.hostname
            or not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS))
        ):
            self.err(f"{path}.url", f"required: the helpdesk's https:// API base URL, not {url!r}")
            url = None
        ssm, arn = self.secret(d.get("secret"), f"{path}.secret")
        return (str(url).rstrip("/") if url else None), (ssm or arn)

    def secret(self, value: Any, path: str) -> tuple[str | None, str | None]:
        shapes = "{ssm_parameter: /path} or {secrets_manager: arn-or-name}"
        if value is None:
            self.err(path, f"required: {shapes}")
            return None, None
        d = self.mapping(value, path, shapes)
        if d is None:
            return None, None
        self.check_keys(d, path, _SECRET_KEYS)
        given = [k for k in _SECRET_KEYS if k in d]
        if len(given) != 1:
            self.err(path, "needs exactly one of ssm_parameter, secrets_manager")
        for key in given:
            v = d[key]
            if not isinstance(v, str) or not v.strip() or any(c.isspace() for c in v):
                self.err(f"{path}.{key}", f"must be a parameter name or ARN without spaces, not {v!r}")
            elif key == "ssm_parameter" and not v.startswith("/"):
                self.err(
                    f"{path}.{key}", f"an SSM parameter name is a path like /slaclock/<source>, not {v!r}"
                )
            elif key == "secrets_manager" and v.startswith("/"):
                self.err(f"{path}.{key}", f"a Secrets Manager secret is an ARN or a name, not a path: {v!r}")
            elif key == "ssm_parameter" and not v.startswith("/slaclock/"):
                # template.yaml grants ssm:GetParameter on parameter/slaclock/<stack name>/* only
                self.warnings.append(
                    (
                        f"{path}.{key}",
                        f"{v!r} is outside /slaclock/: the functions' IAM policy reads "
                        "/slaclock/<stack name>/* only and cannot read it unless you widen it",
                    )
                )
        return d.get("ssm_parameter"), d.get("secrets_manager")

    def jmespath_mapping(self, value: Any, path: str) -> dict[str, str] | None:
        """Only the shape is checked (non-empty strings): the engine does not parse JMESPath."""
        d = self.mapping(value, path, "a mapping of field: JMESPath expression")
        if d is None:
            return None
        for key, expression in d.items():
            if not isinstance(key, str) or not key.strip():
                self.err(_join(path, key), "a field name must be a non-empty string")
            elif not isinstance(expression, str) or not expression.strip():
                self.err(_join(path, key), f"must be a JMESPath expression (a string), not {expression!r}")
        return dict(d)

    def reports(self, value: Any) -> tuple[ReportSubscription, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.err("reports", f"must be a list of reports, not {_kind(value)}")
            return ()
        out = []
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            path = f"reports[{i}]"
            d = self.mapping(item, path, "a report: {name, period, calendar, group_by, filters, recipients}")
            if d is None:
                continue
            name = d.get("name")
            if isinstance(name, str) and name.strip():
                if name in seen:
                    self.err(f"{path}.name", f"duplicate report name {name!r} (also reports[{seen[name]}])")
                seen.setdefault(name, i)
            report = self.report(d, path)
            if report is not None:
                out.append(report)
        return tuple(out)

    def report(self, d: Mapping[str, Any], path: str) -> ReportSubscription | None:
        before = len(self.errors)
        self.check_keys(d, path, _REPORT_KEYS)
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            self.err(f"{path}.name", "required: a non-empty string")
        period = d.get("period")
        periods = ", ".join(PERIODS)
        if period is None:
            self.err(f"{path}.period", f"required: one of {periods}")
        elif period not in PERIODS:
            self.err(f"{path}.period", f"unknown period {period!r} ({periods})")
        calendar = self.calendar_ref(d.get("calendar"), f"{path}.calendar")
        group_by: tuple[str, ...] = ()
        if "group_by" in d:
            group_by = self.string_list(d["group_by"], f"{path}.group_by") or ()
            for i, g in enumerate(group_by):
                if g not in GROUP_FIELDS:
                    self.err(f"{path}.group_by[{i}]", f"unknown grouping {g!r} ({', '.join(GROUP_FIELDS)})")
                elif g in group_by[:i]:
                    self.err(f"{path}.group_by[{i}]", f"{g!r} is listed twice")
        filters: dict[str, tuple[str, ...]] = {}
        if "filters" in d:
            filters = self.report_filters(d["filters"], f"{path}.filters")
        recipients: tuple[str, ...] = ()
        if "recipients" in d:
            recipients = self.emails(d["recipients"], f"{path}.recipients") or ()
        time_split = d.get("time_split", False)
        if not isinstance(time_split, bool):
            self.err(f"{path}.time_split", f"must be true or false, not {time_split!r}")
        if len(self.errors) != before or calendar is None:
            return None
        return ReportSubscription(
            name=str(name),
            period=str(period),
            calendar=calendar,
            group_by=group_by,
            filters=filters,
            recipients=recipients,
            time_split=time_split is True,
        )

    def report_filters(self, value: Any, path: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        d = self.mapping(value, path, f"a mapping of {', '.join(GROUP_FIELDS)} to lists of values")
        for key, values in (d or {}).items():
            if key not in GROUP_FIELDS:
                self.err(_join(path, key), f"unknown filter ({', '.join(GROUP_FIELDS)})")
                continue
            checked = self.string_list(values, f"{path}.{key}", allow_empty=False)
            if checked is None:
                continue
            metrics = self.metric_order or [m.value for m in Metric]
            metrics += [f"{m}{AT}{a}" for a in sorted(self.agreement_names - {CUSTOMER}) for m in metrics]
            known = {"level": self.level_names, "metric": metrics, "agreement": self.agreement_names}.get(key)
            for i, v in enumerate(checked):
                if known is not None and v not in known and (key != "level" or self.levels_readable):
                    self.err(f"{path}.{key}[{i}]", f"unknown {key} {v!r} ({key}s: {_names(known)})")
            out[key] = checked
        return out
