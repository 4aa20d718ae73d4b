"""The S3 blob store against moto's S3 server, which checks our SigV4 signatures as S3 does."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.plugin import S3Server
from omnicase.kit.s3 import PUT_CONCURRENCY, BlobStoreError, S3BlobStore, sign

pytestmark = pytest.mark.asyncio


def _store(
    server: S3Server, bucket: str, *, secret_key: str | None = None, access_key: str | None = None
) -> S3BlobStore:
    return S3BlobStore(
        server.endpoint,
        bucket,
        server.region,
        access_key or server.access_key,
        secret_key or server.secret_key,
    )


@pytest_asyncio.fixture
async def store(s3_server: S3Server) -> AsyncIterator[S3BlobStore]:
    store = _store(s3_server, f"blobs-{uuid.uuid4().hex[:12]}")
    await store.create_bucket()
    try:
        yield store
    finally:
        await store.close()


async def test_put_then_get_returns_the_bytes_under_their_sha256(store: S3BlobStore) -> None:
    content = b"attachment bytes"

    sha256 = await store.put(content)

    assert sha256 == hashlib.sha256(content).hexdigest()
    assert await store.get(sha256) == content


async def test_putting_the_same_bytes_twice_returns_the_same_digest(store: S3BlobStore) -> None:
    first = await store.put(b"twice")
    second = await store.put(b"twice")

    assert first == second
    assert await store.get(first) == b"twice"


async def test_put_many_puts_each_distinct_blob_once_a_few_at_a_time(
    store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    contents = [f"file {i}".encode() for i in range(10)]
    request = store._request
    puts: list[str] = []
    in_flight = most_in_flight = 0

    async def counting(
        method: str, key: str = "", content: bytes = b"", *, tolerate: str = ""
    ) -> httpx.Response | None:
        nonlocal in_flight, most_in_flight
        puts.append(key)
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        try:
            await asyncio.sleep(0.01)  # let the others start, if they may
            return await request(method, key, content, tolerate=tolerate)
        finally:
            in_flight -= 1

    monkeypatch.setattr(store, "_request", counting)
    digests = await store.put_many([*contents, contents[0], contents[3]])

    assert digests == [hashlib.sha256(content).hexdigest() for content in [*contents, contents[0], contents[3]]]
    assert sorted(puts) == sorted(set(digests))
    assert 1 < most_in_flight <= PUT_CONCURRENCY
    assert [await store.get(sha256) for sha256 in digests] == [*contents, contents[0], contents[3]]


async def test_get_of_an_unknown_digest_is_none(store: S3BlobStore) -> None:
    assert await store.get(hashlib.sha256(b"never stored").hexdigest()) is None
    assert await store.get("../not-a-digest") is None


async def test_get_from_a_missing_bucket_raises_instead_of_answering_none(s3_server: S3Server) -> None:
    store = _store(s3_server, f"missing-{uuid.uuid4().hex[:12]}")
    try:
        with pytest.raises(BlobStoreError) as raised:
            await store.get(hashlib.sha256(b"x").hexdigest())
    finally:
        await store.close()

    assert (raised.value.s3_status, raised.value.code) == (404, "NoSuchBucket")


async def test_a_wrong_secret_key_is_refused_with_signature_does_not_match(
    s3_server: S3Server, store: S3BlobStore
) -> None:
    stored = await store.put(b"signed right")
    bucket = store.bucket_url.rsplit("/", 1)[1]
    wrong = _store(s3_server, bucket, secret_key="not-the-secret")
    try:
        with pytest.raises(BlobStoreError) as on_put:
            await wrong.put(b"signed wrong")
        with pytest.raises(BlobStoreError) as on_get:
            await wrong.get(stored)
    finally:
        await wrong.close()

    assert (on_put.value.s3_status, on_put.value.code) == (403, "SignatureDoesNotMatch")
    assert (on_get.value.s3_status, on_get.value.code) == (403, "SignatureDoesNotMatch")
    assert "SignatureDoesNotMatch" in str(on_put.value)
    assert await store.get(digest_of(b"signed wrong")) is None


async def test_an_unknown_access_key_is_refused(s3_server: S3Server, store: S3BlobStore) -> None:
    bucket = store.bucket_url.rsplit("/", 1)[1]
    stranger = _store(s3_server, bucket, access_key="AKIAUNKNOWNKEY000000")
    try:
        with pytest.raises(BlobStoreError) as raised:
            await stranger.put(b"from a stranger")
    finally:
        await stranger.close()

    assert (raised.value.s3_status, raised.value.code) == (403, "InvalidAccessKeyId")


async def test_a_five_megabyte_blob_round_trips(store: S3BlobStore) -> None:
    content = os.urandom(5 * 1024 * 1024)

    sha256 = await store.put(content)

    assert await store.get(sha256) == content


async def test_ping_fails_until_the_bucket_is_created(s3_server: S3Server) -> None:
    store = _store(s3_server, f"later-{uuid.uuid4().hex[:12]}")
    try:
        with pytest.raises(BlobStoreError) as raised:
            await store.ping()
        assert raised.value.s3_status == 404

        await store.create_bucket()
        await store.create_bucket()  # already ours: fine
        await store.ping()
    finally:
        await store.close()


async def test_bytes_that_do_not_match_their_key_are_answered_none(
    s3_server: S3Server, store: S3BlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    key = digest_of(b"what the key promises")
    url = f"{store.bucket_url}/{key}"
    content = b"something else"
    headers = sign(
        "PUT", url, content, region=s3_server.region, access_key=s3_server.access_key, secret_key=s3_server.secret_key
    )
    async with httpx.AsyncClient() as client:
        (await client.put(url, content=content, headers=headers)).raise_for_status()

    with caplog.at_level(logging.WARNING, logger="omnicase.kit.s3"):
        assert await store.get(key) is None

    assert any(record.getMessage() == "blob bytes do not match their digest" for record in caplog.records)


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
