"""Hard limits that several layers check (the settings, the use cases, the adapters), defined once."""

MAX_LINK_SECONDS = 7 * 24 * 3600
"""604,800 s: the longest a SigV4 presigned URL is valid, so the longest a report link may promise."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a JSON text from outside may have (webhook and admin API
bodies, configuration files, event and export files). No helpdesk nests deeper than about 10."""

MAX_INTEGER_DIGITS = 38
"""Most digits an integer literal may have: DynamoDB's number precision, and far beyond any id or
unix time in milliseconds (13 digits). Longer literals are refused before Python converts them."""

MAX_DOCUMENT_VALUES = 1_000_000
"""Most values (scalars, lists and mappings) a YAML configuration may hold once its aliases are
expanded: several MB of JSON, far beyond any real configuration; a few lines of aliases can name a
billion, which every reader of the document would then walk."""
