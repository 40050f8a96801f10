"""Links from a slaclock ticket id back to the ticket in its helpdesk.

A source's ``ticket_url`` template (configuration ``sources.<name>.ticket_url``) makes the link, e.g.
``https://acme.zendesk.com/agent/tickets/{ticket_number}``. ``{ticket_number}`` is the id as the
helpdesk sent it (the source's ``ticket_prefix`` removed), ``{ticket_id}`` slaclock's id; both are
percent-encoded (RFC 3986: only letters, digits and ``-._~`` left as they are), so a hostile id cannot
change the link's host or path.

The source of a ticket is the one whose ``ticket_prefix`` the id starts with, the longest prefix
winning (``hs-11`` belongs to the source with ``hs-`` rather than to one without a prefix); sources
sharing a prefix (one helpdesk's several webhooks) take the first such source that has a template.
A ticket whose source has no template has no link (``""``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote

from slaclock.engine.config.model import Source


def ticket_linker(sources: Mapping[str, Source]) -> Callable[[str], str]:
    """``link(ticket_id)``: the URL of the ticket in its helpdesk, or ``""`` (see the module docstring).

    >>> link = ticket_linker({"zd": Source("zd", "zendesk", ticket_url="https://a.test/t/{ticket_number}")})
    >>> link("42")
    'https://a.test/t/42'
    """
    by_prefix: dict[str, str | None] = {}
    for source in sources.values():
        if by_prefix.get(source.ticket_prefix) is None:
            by_prefix[source.ticket_prefix] = source.ticket_url
    prefixes = sorted(by_prefix, key=len, reverse=True)
    if not any(by_prefix.values()):
        return lambda ticket_id: ""

    def link(ticket_id: str) -> str:
        for prefix in prefixes:
            if ticket_id.startswith(prefix):
                template = by_prefix[prefix]
                if not template:
                    return ""
                return template.format(
                    ticket_number=quote(ticket_id[len(prefix) :], safe=""),
                    ticket_id=quote(ticket_id, safe=""),
                )
        return ""

    return link
