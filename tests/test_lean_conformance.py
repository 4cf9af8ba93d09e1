"""The lean request path gives what the botocore path gives: results and errors alike.

Every hot operation (HeadObject, GetObject whole and ranged, ListObjectsV2 flat and delimited)
is sent through both paths against the same server and the outcomes are compared.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, FlexibleChecksumError, SSLError

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    _pool,
    _s3,
    configuration_map,
    register_configuration_parameter,
)
from aios3path._client import S3Client
from aios3path._errors import S3Error
from aios3path._lean import _max_attempts
from aios3path._listing import iter_pages
from aios3path.testing import S3Server

from ._helpers import put
from ._proxy import CountingProxy, CutResponse, http_response

SPECIAL_KEYS = [
    "plain.txt",
    "with space.txt",
    "plus+and=equals&amp.txt",
    "ünïcödé/日本語.txt",
    "percent%20literal.txt",
    "tilde~and*star.txt",
    "q?uestion#hash.txt",
]


async def _clients(bucket: AsyncS3Path) -> tuple[S3Client, S3Client]:
    client = await _pool.get_client(configuration_map.resolve(bucket).settings)
    assert client.lean is not None, "the lean path should serve the test server"
    return client, client.without_lean()


Outcome = tuple[str, Any]


async def _outcome(call: Callable[[S3Client], Awaitable[Any]], client: S3Client) -> Outcome:
    try:
        return "ok", await call(client)
    except S3Error as error:
        return type(error).__name__, (error.code, str(error))


async def _same(bucket: AsyncS3Path, call: Callable[[S3Client], Awaitable[Any]]) -> Outcome:
    lean, botocore = await _clients(bucket)
    lean_outcome = await _outcome(call, lean)
    botocore_outcome = await _outcome(call, botocore)
    assert lean_outcome == botocore_outcome
    return lean_outcome


def _head_view(head: dict[str, Any]) -> dict[str, Any]:
    fields = ("ContentLength", "LastModified", "ETag", "ContentType", "Metadata", "VersionId")
    return {name: head.get(name) for name in fields}


@pytest.mark.parametrize("key", SPECIAL_KEYS)
async def test_head_get_and_ranges_agree(bucket: AsyncS3Path, boto3_client: Any, key: str) -> None:
    body = ("0123456789" * 30).encode()
    boto3_client.put_object(
        Bucket=bucket.bucket,
        Key=key,
        Body=body,
        ContentType="text/x-test",
        Metadata={"origin": "conformance"},
    )
    uri = f"s3://{bucket.bucket}/{key}"

    async def head(client: S3Client) -> dict[str, Any]:
        return _head_view(await _s3.head_object(client, uri, bucket.bucket, key))

    kind, value = await _same(bucket, head)
    assert kind == "ok" and value["ContentLength"] == 300
    assert value["Metadata"] == {"origin": "conformance"}

    for byte_range in (None, (0, 0), (10, 19), (290, 299), (295, 400)):

        async def get(client: S3Client, r: tuple[int, int] | None = byte_range) -> bytes:
            return await _s3.get_object(client, uri, bucket.bucket, key, byte_range=r)

        kind, data = await _same(bucket, get)
        start, end = byte_range or (0, 299)
        assert kind == "ok" and data == body[start : end + 1]


async def test_ranges_past_the_end_and_empty_objects_agree(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "ten", b"0123456789")
    put(boto3_client, bucket.bucket, "empty", b"")

    async def past_end(client: S3Client) -> bytes:
        return await _s3.get_object(client, "u", bucket.bucket, "ten", byte_range=(10, 20))

    kind, _ = await _same(bucket, past_end)
    assert kind == "S3ValueError"  # InvalidRange

    async def whole_empty(client: S3Client) -> bytes:
        return await _s3.get_object(client, "u", bucket.bucket, "empty")

    assert await _same(bucket, whole_empty) == ("ok", b"")

    async def head_empty(client: S3Client) -> int:
        return int((await _s3.head_object(client, "u", bucket.bucket, "empty"))["ContentLength"])

    assert await _same(bucket, head_empty) == ("ok", 0)


async def test_missing_keys_and_buckets_raise_the_same_errors(bucket: AsyncS3Path) -> None:
    async def head_missing(client: S3Client) -> Any:
        return await _s3.head_object(client, "s3://b/missing", bucket.bucket, "missing")

    async def get_missing(client: S3Client) -> Any:
        return await _s3.get_object(client, "s3://b/missing", bucket.bucket, "missing")

    async def list_missing_bucket(client: S3Client) -> Any:
        return await _s3.list_page(client, "s3://nope", "t-no-such-bucket-aios3path", "")

    async def get_missing_bucket(client: S3Client) -> Any:
        return await _s3.get_object(client, "s3://nope/k", "t-no-such-bucket-aios3path", "k")

    assert (await _same(bucket, head_missing))[0] == "S3FileNotFoundError"
    assert (await _same(bucket, get_missing))[1][0] == "NoSuchKey"
    assert (await _same(bucket, list_missing_bucket))[1][0] == "NoSuchBucket"
    assert (await _same(bucket, get_missing_bucket))[1][0] == "NoSuchBucket"


@pytest.mark.needs("bucket-policy")
async def test_denied_access_raises_the_same_errors(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "locked/k", "x")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket.bucket}/locked/*",
            }
        ],
    }
    boto3_client.put_bucket_policy(Bucket=bucket.bucket, Policy=json.dumps(policy))
    try:

        async def get_locked(client: S3Client) -> Any:
            return await _s3.get_object(client, "s3://b/locked/k", bucket.bucket, "locked/k")

        assert (await _same(bucket, get_locked))[0] == "S3PermissionError"
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket.bucket)


@pytest.mark.parametrize("delimiter", [None, "/"])
async def test_listings_over_1000_keys_agree(
    bucket: AsyncS3Path, boto3_client: Any, delimiter: str | None
) -> None:
    keys = [f"many/{i:04d}" for i in range(1_200)] + [f"many/sub/{k}" for k in SPECIAL_KEYS]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: put(boto3_client, bucket.bucket, k, b"x"), keys))

    async def listing(client: S3Client) -> list[Any]:
        pages = []
        async for page in iter_pages(client, "u", bucket.bucket, "many/", delimiter=delimiter):
            pages.append(
                (
                    [(o.key, o.size, o.etag, o.last_modified) for o in page.objects],
                    list(page.prefixes),
                )
            )
        return pages

    kind, pages = await _same(bucket, listing)
    assert kind == "ok" and len(pages) == 2
    listed = [key for objects, _ in pages for key, *_ in objects]
    if delimiter:
        assert listed == keys[:1200] and pages[-1][1] == ["many/sub/"]
    else:
        assert sorted(listed) == sorted(keys)


async def test_the_lean_path_is_used_by_default_and_can_be_turned_off(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    path = bucket / "k"
    await path.write_text("x")
    counter.clear()
    assert await path.stat() is not None
    assert counter.requests[-1].headers["user-agent"].startswith("aios3path-lean")
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"lean_requests": False}
    )
    counter.clear()
    assert await path.stat() is not None
    assert not counter.requests[-1].headers["user-agent"].startswith("aios3path-lean")


# -- faults: retries and redirects -------------------------------------------------------


async def test_throttling_and_server_errors_are_retried(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    path = bucket / "flaky"
    await path.write_text("finally")
    faults = [http_response(503, "Slow Down"), http_response(500, "Internal Server Error")]

    def inject(request: Any) -> bytes | None:
        if request.method == "HEAD" and faults:
            return faults.pop(0)
        return None

    counter.inject = inject
    counter.clear()
    assert (await path.stat()).size == 7  # type: ignore[union-attr]
    assert counter.operations()["HeadObject"] == 3  # two faults, then success


async def test_slow_down_answers_to_listings_are_retried(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    await (bucket / "d" / "k").write_text("x")
    slow_down = b"<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>"
    faults = [http_response(503, "Slow Down", slow_down)]

    def inject(request: Any) -> bytes | None:
        if request.operation == "ListObjectsV2" and faults:
            return faults.pop(0)
        return None

    counter.inject = inject
    counter.clear()
    assert [p.name async for p in (bucket / "d").iterdir()] == ["k"]
    assert counter.operations()["ListObjectsV2"] == 2


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])
async def test_errors_that_stay_after_every_attempt_are_raised_alike(
    bucket: AsyncS3Path, counter: CountingProxy, s3_server: S3Server, lean: bool
) -> None:
    settings = dict(s3_server.client_settings(), endpoint_url=counter.url)
    settings["config"] = Config(retries={"mode": "standard"})  # 3 attempts (legacy: 5)
    register_configuration_parameter(
        PureS3Path("/"), resource=settings, parameters={"lean_requests": lean}
    )
    path = bucket / "broken"
    counter.inject = lambda request: http_response(503, "Service Unavailable")
    with pytest.raises(S3Error) as raised:
        await path.stat()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert raised.value.response["Error"]["Message"] == "Service Unavailable"
    assert counter.operations()["HeadObject"] == 3


@pytest.mark.parametrize(
    ("retries", "attempts"),
    [
        ({}, 5),  # botocore's default mode is legacy: 5 attempts
        ({"mode": "legacy"}, 5),
        ({"mode": "standard"}, 3),
        ({"mode": "adaptive"}, 3),
        ({"mode": "standard", "total_max_attempts": 7}, 7),
        ({"total_max_attempts": 2}, 2),
    ],
)
def test_the_lean_path_makes_as_many_attempts_as_botocore(
    retries: dict[str, Any], attempts: int
) -> None:
    assert _max_attempts(retries) == attempts


async def test_a_region_redirect_hands_the_bucket_to_botocore(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    path = bucket / "moved"
    await path.write_text("here")
    redirected: list[str] = []

    def inject(request: Any) -> bytes | None:
        lean = request.headers.get("user-agent", "").startswith("aios3path-lean")
        if lean and not redirected:
            redirected.append(request.path)
            return http_response(301, "Moved Permanently", x_amz_bucket_region="eu-west-1")
        return None

    counter.inject = inject
    counter.clear()
    assert (await path.stat()).size == 4  # type: ignore[union-attr]
    assert redirected  # the lean request met the redirect ...
    agents = [r.headers.get("user-agent", "") for r in counter.requests]
    assert not agents[-1].startswith("aios3path-lean")  # ... and botocore answered it
    counter.clear()
    assert await path.stat() is not None
    # The bucket is remembered: its requests now go through botocore, which follows redirects.
    assert all(not r.headers["user-agent"].startswith("aios3path-lean") for r in counter.requests)


async def test_header_values_are_read_as_utf8_on_both_paths(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    """Stores keep the UTF-8 bytes of a header value (moto does): the lean path used to read
    them as latin-1 ("JÃ¼rgen"), and an append then wrote that back as the new value."""
    raw = {  # UTF-8 bytes on the wire (http_response writes its text as latin-1)
        "x-amz-meta-author": "Jürgen".encode().decode("latin-1"),
        "Content-Type": "text/plain; name=ü".encode().decode("latin-1"),
        "ETag": '"0cc175b9c0f1b6a831c399e269772661"',
        "Last-Modified": "Wed, 25 Nov 2026 12:00:00 GMT",
    }
    counter.inject = lambda request: (
        http_response(200, "OK", **raw) if request.operation == "HeadObject" else None
    )
    found = {}
    for lean in (True, False):
        register_configuration_parameter(
            PureS3Path("/", bucket.bucket), parameters={"lean_requests": lean}
        )
        stat = await (bucket / "k").stat()
        assert stat is not None
        found[lean] = (stat.metadata, stat.content_type)
    assert found[True] == found[False] == ({"author": "Jürgen"}, "text/plain; name=ü")


@pytest.fixture
def self_signed_endpoint(tmp_path: Any) -> Iterator[str]:
    """An https endpoint whose certificate no CA vouches for (it only shakes hands)."""
    import datetime
    import socket
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection, contextlib.suppress(OSError):
                connection.settimeout(5)
                context.wrap_socket(connection, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])
async def test_a_certificate_that_does_not_verify_is_an_ssl_error_on_both_paths(
    self_signed_endpoint: str, s3_server: S3Server, lean: bool
) -> None:
    settings = dict(s3_server.client_settings(), endpoint_url=self_signed_endpoint)
    settings["config"] = Config(retries={"total_max_attempts": 1})
    register_configuration_parameter(
        PureS3Path("/tls-bucket/"), resource=settings, parameters={"lean_requests": lean}
    )
    with pytest.raises(SSLError, match="certificate verify failed"):
        await AsyncS3Path("/tls-bucket/k").read_bytes()


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])
async def test_a_body_that_always_breaks_off_is_an_error_of_the_library_or_botocore(
    bucket: AsyncS3Path, counter: CountingProxy, lean: bool
) -> None:
    """Never aiohttp's own exception types: those are neither ``OSError`` nor botocore's."""
    await (bucket / "cut").write_bytes(b"x" * 1000)
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"lean_requests": lean}
    )
    head = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: "e"\r\n\r\n'
    counter.inject = lambda request: (
        CutResponse(head.encode() + b"x" * 10) if request.operation == "GetObject" else None
    )
    with pytest.raises((S3Error, BotoCoreError)) as raised:
        await (bucket / "cut").read_bytes()
    assert not isinstance(raised.value, aiohttp.ClientError)


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])
async def test_a_whole_object_whose_crc32_does_not_match_is_botocores_checksum_error(
    bucket: AsyncS3Path, counter: CountingProxy, lean: bool
) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"lean_requests": lean}
    )
    counter.inject = lambda request: (
        http_response(200, "OK", b"corrupted", ETag='"e"', x_amz_checksum_crc32="AAAAAA==")
        if request.operation == "GetObject"
        else None
    )
    with pytest.raises(FlexibleChecksumError, match="did not match"):
        await _s3.get_object((await bucket._request()).client, "s3://x/k", bucket.bucket, "k")
