"""slaclock: a self-hosted SLA engine for support teams.

`slaclock.engine` is pure (stdlib + holidays): calendars, configuration, rules, clocks, reports.
`slaclock.helpdesk` turns provider webhooks into canonical events. `slaclock.services` are the use
cases, `slaclock.adapters` the only code that talks to AWS, `slaclock.runtime` the composition root.
"""

__version__ = "0.1.0"
