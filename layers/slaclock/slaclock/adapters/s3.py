"""`ReportSink` port on S3: reports streamed into the data bucket (``reports/`` prefix) with boto3's
managed transfer, shared by presigned links.

`put` never holds the whole report: the body is an iterable of byte chunks wrapped in a read-only
file object, and `upload_fileobj` (TransferConfig: 8 MiB parts, multipart above 16 MiB, handled by
boto3/s3transfer) uploads it part by part, so memory stays flat however many rows the report has.
Objects are encrypted at rest (SSE-S3, AES256; the bucket's default too). `link` presigns a GET valid
for `expires_in_seconds` (at most 7 days, SigV4's limit); the link works only while the object exists
(the bucket's lifecycle deletes reports after the retention the template sets).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws
from slaclock.engine.limits import MAX_LINK_SECONDS

MiB = 1024 * 1024


class _ChunkReader(io.RawIOBase):
    """A read-only, non-seekable file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = bytes(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class S3ReportSink:
    """Implements `slaclock.ports.ReportSink`."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        part_size: int = 8 * MiB,
        multipart_threshold: int = 16 * MiB,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or _aws.client("s3", mode="standard", max_attempts=5, signature_version="s3v4")
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=part_size, max_concurrency=4
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, body: Iterable[bytes], content_type: str) -> None:
        """Upload the chunks of `body` to `<prefix><key>` (streamed; multipart for large bodies)."""
        stream = io.BufferedReader(_ChunkReader(body), buffer_size=MiB)
        try:
            self.client.upload_fileobj(
                stream,
                self.bucket,
                self._key(key),
                ExtraArgs={"ContentType": content_type, "ServerSideEncryption": "AES256"},
                Config=self.transfer,
            )
        except S3UploadFailedError as err:  # s3transfer's wrapper of the part that failed
            raise _aws.unavailable("s3", "upload", err, code="S3UploadFailed") from err
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("s3", "upload", err) from err
            raise

    def link(self, key: str, expires_in_seconds: int) -> str:
        """A presigned GET URL of `<prefix><key>`, valid for `expires_in_seconds` (1 s .. 7 days)."""
        if not 1 <= expires_in_seconds <= MAX_LINK_SECONDS:
            raise ValueError(f"a link expires within 1 s and 7 days, not {expires_in_seconds} s")
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires_in_seconds
        )
        return url
