"""Hard limits that several layers check (the settings, the use cases, the adapters), defined once."""

MAX_LINK_SECONDS = 7 * 24 * 3600
"""604,800 s: the longest a SigV4 presigned URL is valid, so the longest a report link may promise."""
