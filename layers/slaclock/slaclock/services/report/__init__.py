"""Use case: compliance reports to S3, scheduled and on demand, shared as expiring links.

Three entry points (`jobs`), one builder (`build`), a request validator (`request`) and the periods
and specifications they share (`spec`); `sort` (external merge sort), `links` (signed report links)
and `email` (the report e-mail) serve them. This package re-exports the public names of the four.

Three entry points, one builder:

- `request_report` (``POST /reports``): validates the body (`validate_request`; every problem listed
  in one `ReportRequestError`, a 400), stores a job (`ReportJobStore`, status ``queued``) and puts its
  id on the report queue (`ReportQueue`). Answers at once; the report is built asynchronously.
- `schedule_reports` (an EventBridge Scheduler firing for one period kind): picks the configuration's
  ``reports:`` subscriptions of that kind whose period just ended in their calendar's time zone
  (`due_subscriptions`) and queues one job each, with a deterministic id (``<name>.<period label>``)
  created conditionally, so a schedule that fires twice queues each report once.
- `run_report_job` (the queue's consumer): claims the job (a lease), builds the report
  (`build_report`), records the keys and figures, e-mails the links, marks the job done.

What a report holds: the clock records whose OUTCOME was decided in the period ([start, end), the
period in its time zone): met clocks by their stop, missed clocks by their due instant; optionally
(on demand, ``include_running``) the clocks still undecided at their last save that started before the
period's end. Filters keep the rows whose department / agent / level / metric is one of the values
listed (exact match; ``""`` matches an unset field). The records are read by QUERY on the
clocks-by-outcome index (never a scan), page by page, and written as they come.

Output (`ReportSpec.keys`): ``reports/<name or id>/<period label>/{sla_log.csv, compliance.csv,
summary.html}``. The CSVs are the engine's (`slaclock.engine.reports`: same columns, cells and number
formats as ``slaclock replay``), the page is the engine's summary page. The SLA log comes in outcome
order (the index order: it costs no memory) unless a sort is asked: then an external merge sort over
temporary files (`slaclock.services.report.sort`) keeps memory flat. Compliance days are counted in
each LEVEL's calendar zone (a local day), so near the period's edges a day of another zone may appear.

Memory is flat in the row count: the rows stream from the query into a multipart upload; only the
compliance tallies (days × groups), the summary's bounded aggregates, one sort chunk and one batch of
distinct-ticket hashes are held.

Links: one per file, valid `link_expiry_seconds` (default and maximum 7 days). Deployed, they are
signed tokens opened by the link route (`slaclock.services.report.links`: they outlive the temporary
credentials of the function that issued them); without a `links` issuer (tests, a bare sink) they are
the sink's presigned GETs. E-mailed with a short summary: compliance, met and missed counts, the worst
level and department, and the trend against the previous period of the same length (see
`previous_figures`).
"""

from slaclock.engine.limits import MAX_LINK_SECONDS
from slaclock.services.report.build import (
    ReportPorts,
    build_report,
    csv_chunks,
    page_title,
    previous_figures,
    report_rows,
    to_log_row,
)
from slaclock.services.report.jobs import (
    ReportOutcome,
    report_links,
    report_status,
    request_report,
    run_report_job,
    schedule_reports,
)
from slaclock.services.report.request import (
    PeriodRange,
    ReportRequestBody,
    validate_request,
)
from slaclock.services.report.spec import (
    CSV_TYPE,
    FILES,
    HTML_TYPE,
    NAMED_PERIODS,
    REPORTS_PREFIX,
    Period,
    ReportBusy,
    ReportNotFound,
    ReportRequestError,
    ReportSpec,
    calendar_period,
    custom_period,
    due_subscriptions,
    folder_name,
    local_midnight,
    new_report_id,
    one_year_after,
    scheduled_report_id,
    subscription_spec,
)

__all__ = [
    "CSV_TYPE",
    "FILES",
    "HTML_TYPE",
    "MAX_LINK_SECONDS",
    "NAMED_PERIODS",
    "Period",
    "PeriodRange",
    "REPORTS_PREFIX",
    "ReportBusy",
    "ReportNotFound",
    "ReportOutcome",
    "ReportPorts",
    "ReportRequestBody",
    "ReportRequestError",
    "ReportSpec",
    "build_report",
    "calendar_period",
    "csv_chunks",
    "custom_period",
    "due_subscriptions",
    "folder_name",
    "local_midnight",
    "new_report_id",
    "one_year_after",
    "page_title",
    "previous_figures",
    "report_links",
    "report_rows",
    "report_status",
    "request_report",
    "run_report_job",
    "schedule_reports",
    "scheduled_report_id",
    "subscription_spec",
    "to_log_row",
    "validate_request",
]
