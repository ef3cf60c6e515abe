"""A read-only, seekable file object over one S3 object, read with ranged GETs.

pyarrow (Parquet footer and row groups, Arrow IPC record batches) and the byte-range text
reader seek and read through it, so a shard reads only the bytes it needs. Small reads go
through a cache of a few blocks (the Parquet footer is read backwards in small pieces); large
reads are one ranged GET each. Every GET names the object's ETag (``IfMatch``), so an object
replaced while a job runs fails loudly instead of mixing two versions. It works wherever boto3
does, under moto's ``mock_aws`` too (pyarrow's own S3 filesystem does not see moto).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from synthos.errors import DatasetNotFound, UnreadableDataset

BLOCK_BYTES = 1 << 20
CACHE_BLOCKS = 16
_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; DatasetNotFound for anything else."""
    if not isinstance(uri, str) or not uri.startswith("s3://") or "/" not in uri[5:]:
        raise DatasetNotFound(f"not an s3://bucket/key location: {uri!r}"[:200])
    bucket, key = uri[5:].split("/", 1)
    if not bucket or not key:
        raise DatasetNotFound(f"not an s3://bucket/key location: {uri!r}"[:200])
    return bucket, key


class S3File(io.RawIOBase):
    """``open()``-like read-only binary file over ``s3://bucket/key`` (``s3``: a boto3 client)."""

    def __init__(self, s3: Any, bucket: str, key: str, *, block_bytes: int = BLOCK_BYTES,
                 cache_blocks: int = CACHE_BLOCKS) -> None:
        super().__init__()
        self._s3, self.bucket, self.key = s3, bucket, key
        self._block, self._cache_blocks = block_bytes, cache_blocks
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        head = self._call(s3.head_object, Bucket=bucket, Key=key)
        self.size: int = int(head["ContentLength"])
        self.etag: str = head["ETag"]
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise OSError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        if end <= self._pos:
            return b""
        if end - self._pos > 2 * self._block:
            data = self._get(self._pos, end)
        else:
            first, last = self._pos // self._block, (end - 1) // self._block
            joined = b"".join(self._cached(i) for i in range(first, last + 1))
            offset = self._pos - first * self._block
            data = joined[offset : offset + end - self._pos]
        self._pos = end
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _cached(self, index: int) -> bytes:
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        start = index * self._block
        data = self._get(start, min(self.size, start + self._block))
        self._cache[index] = data
        if len(self._cache) > self._cache_blocks:
            self._cache.popitem(last=False)
        return data

    def _get(self, start: int, stop: int) -> bytes:
        self.requests += 1
        response = self._call(self._s3.get_object, Bucket=self.bucket, Key=self.key,
                              Range=f"bytes={start}-{stop - 1}", IfMatch=self.etag)
        data: bytes = response["Body"].read()
        if len(data) != stop - start:
            raise UnreadableDataset(f"s3://{self.bucket}/{self.key}: short read at {start}")
        return data

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            where = f"s3://{self.bucket}/{self.key}"
            if code in _NOT_FOUND:
                raise DatasetNotFound(f"{where} does not exist") from exc
            if code in ("PreconditionFailed", "412"):
                raise UnreadableDataset(f"{where} changed while it was being read") from exc
            raise UnreadableDataset(f"{where} cannot be read ({code or 'error'})") from exc
        except BotoCoreError as exc:
            raise UnreadableDataset(f"s3://{self.bucket}/{self.key} cannot be read: "
                                    f"{type(exc).__name__}") from exc
