"""The blob store in an S3-compatible bucket: object key = the blob's sha256 hex digest.

Our own small client on one ``httpx.AsyncClient``: path-style URLs
(``{endpoint}/{bucket}/{key}``, which MinIO, Ceph, moto and AWS all answer) signed with AWS
Signature Version 4 over the whole payload, so no AWS SDK in the runtime. Any answer but
2xx raises :class:`BlobStoreError`, except "no such key" on ``get``, which is None.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree

import httpx

from omnicase.kit.blobs import BlobStore, digest
from omnicase.kit.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

# PUTs in flight per put_many: round trips overlap without one call taking the whole pool.
PUT_CONCURRENCY = 4
SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_LOCATION = "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>"


class BlobStoreError(ServiceUnavailable):
    """S3 answered ``s3_status`` (0: it did not answer); ``code`` is the ``<Code>`` of its XML error
    body ('' without one). A 503 to whoever asked: nothing was stored, send again later."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"S3 answered {status} {code or '(no error code)'}: {message}")
        self.s3_status = status
        self.code = code


def sign(method: str, url: str, payload: bytes, *, region: str, access_key: str, secret_key: str) -> dict[str, str]:
    """The SigV4 headers of a request to ``url``, which has no query string (this client sends none)."""
    target = httpx.URL(url)
    if target.query:
        raise ValueError("sign: query strings are not supported")
    timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(payload).hexdigest()
    # In SIGNED_HEADERS' order; httpx sends the same Host (no default port).
    canonical_headers = f"host:{target.netloc.decode()}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{timestamp}\n"
    canonical_request = "\n".join(
        [method, target.raw_path.decode(), "", canonical_headers, SIGNED_HEADERS, payload_hash]
    )
    scope = f"{timestamp[:8]}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", timestamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (timestamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": timestamp,
    }


def _error(response: httpx.Response) -> BlobStoreError:
    code, message = "", response.reason_phrase  # HEAD answers carry no body
    if response.content:
        try:
            root = ElementTree.fromstring(response.content)
            code, message = root.findtext("Code") or "", root.findtext("Message") or ""
        except ElementTree.ParseError:
            message = response.text[:200]
    return BlobStoreError(response.status_code, code, f"{response.request.method} {response.url.path}: {message}")


class S3BlobStore(BlobStore):
    def __init__(
        self, endpoint: str, bucket: str, region: str, access_key: str, secret_key: str, *, timeout: float = 30.0
    ) -> None:
        self.bucket_url = f"{endpoint.rstrip('/')}/{bucket}"
        self.region = region
        self._access_key = access_key
        self._secret_key = secret_key
        self._client = httpx.AsyncClient(timeout=timeout)

    async def _request(
        self, method: str, key: str = "", content: bytes = b"", *, tolerate: str = ""
    ) -> httpx.Response | None:
        """The 2xx answer; None for an error whose code is ``tolerate``; any other error raises."""
        url = f"{self.bucket_url}/{key}" if key else self.bucket_url
        headers = sign(
            method, url, content, region=self.region, access_key=self._access_key, secret_key=self._secret_key
        )
        try:
            response = await self._client.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as failure:
            raise BlobStoreError(0, "unreachable", f"{method} {httpx.URL(url).path}: {failure!r}") from failure
        if response.is_success:
            return response
        error = _error(response)
        if tolerate and error.code == tolerate:
            return None
        raise error

    async def _put(self, key: str, content: bytes, limit: asyncio.Semaphore) -> None:
        async with limit:
            await self._request("PUT", key, content)

    async def put_many(self, contents: Sequence[bytes]) -> list[str]:
        digests = [digest(content) for content in contents]
        unique = dict(zip(digests, contents, strict=True))
        limit = asyncio.Semaphore(PUT_CONCURRENCY)
        try:
            async with asyncio.TaskGroup() as group:
                for key, content in unique.items():
                    group.create_task(self._put(key, content, limit))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the first failure, as a plain exception for callers
        return digests

    async def get(self, sha256: str) -> bytes | None:
        if not _DIGEST.fullmatch(sha256):  # nothing else is ever a key: no request for it
            return None
        # Only a missing key is None: a missing bucket raises, a misconfigured store is no missing file.
        response = await self._request("GET", sha256, tolerate="NoSuchKey")
        if response is None:
            return None
        if digest(response.content) == sha256:
            return response.content
        logger.warning("blob bytes do not match their digest", extra={"sha256": sha256, "bucket": self.bucket_url})
        return None

    async def ping(self) -> None:
        await self._request("HEAD")

    async def create_bucket(self) -> None:
        """Create the bucket (dev stack, tests); one this account already owns is fine."""
        # us-east-1 is the one region S3 refuses a LocationConstraint for.
        body = b"" if self.region == "us-east-1" else _LOCATION.format(self.region).encode()
        await self._request("PUT", content=body, tolerate="BucketAlreadyOwnedByYou")

    async def close(self) -> None:
        await self._client.aclose()
