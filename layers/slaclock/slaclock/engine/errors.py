"""Domain errors. Every error slaclock raises on purpose subclasses `SlaclockError`; the edges map them
to HTTP codes and exit statuses in one place."""

from __future__ import annotations

from collections.abc import Iterable


class SlaclockError(Exception):
    """Base of every deliberate slaclock error."""


class ValidationError(SlaclockError, ValueError):
    """Bad input, with every problem found, each as (path, message).

    `str(err)` lists them one per line as ``path: message`` so a CLI or a 400 body can print it as is.
    """

    def __init__(self, errors: Iterable[tuple[str, str]], what: str = "invalid input") -> None:
        self.errors: list[tuple[str, str]] = list(errors)
        self.what = what
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{path}: {msg}" if path else msg for path, msg in self.errors]
        head = f"{self.what} ({len(lines)} error{'s' if len(lines) != 1 else ''})"
        return head + ("\n" + "\n".join(lines) if lines else "")

    def messages(self) -> list[str]:
        return [f"{path}: {msg}" if path else msg for path, msg in self.errors]


class ConfigError(ValidationError):
    """The configuration document is invalid; it is rejected as a whole."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        super().__init__(errors, "invalid configuration")


class EventError(ValidationError):
    """A canonical event (or a provider payload turned into one) is malformed."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        super().__init__(errors, "invalid event")
