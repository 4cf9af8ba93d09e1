"""The lean path's SigV4 signer gives byte-for-byte botocore's signatures."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from aios3path._sigv4 import EMPTY_SHA256, SigningKeys, authorization, canonical_query

AMZ_DATE = "20261125T101112Z"


def _botocore_authorization(
    method: str,
    url: str,
    headers: dict[str, str],
    credentials: Credentials,
    region: str,
) -> str:
    """What botocore's S3 signer puts in the Authorization header for the same request."""
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    request.context["timestamp"] = AMZ_DATE
    signer = S3SigV4Auth(credentials, "s3", region)
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    return str(request.headers["Authorization"])


def _ours(
    method: str,
    host: str,
    path: str,
    query_pairs: list[tuple[str, str]],
    headers: dict[str, str],
    credentials: Credentials,
    region: str,
    keys: SigningKeys,
) -> tuple[str, str]:
    query = canonical_query(query_pairs)
    signed = {"host": host, "x-amz-date": AMZ_DATE, "x-amz-content-sha256": EMPTY_SHA256}
    signed.update({k.lower(): v for k, v in headers.items()})
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    value = authorization(
        keys,
        method=method,
        path=path,
        query=query,
        headers=signed,
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        region=region,
        amz_date=AMZ_DATE,
    )
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    return value, url


KEYS = [
    "plain.txt",
    "dir/sub/file.csv",
    "with space and+plus.txt",
    "ünïcödé/日本語/ファイル.txt",
    "a//double//slash",
    "trailing/",
    "/leading",
    "reserved !$&'()*,;=:@ chars",
    "percent%2Fencoded%20already",
    "tilde~dash-under_score.dot",
    "dots/./and/../segments",
    "q?uestion#hash",
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//////////session+token/="])
def test_object_requests_sign_like_botocore(key: str, method: str, token: str | None) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    path = "/bucket/" + quote(key, safe="/~")
    headers = {"range": "bytes=0-99"} if method == "GET" else {}
    ours, url = _ours(
        method, "127.0.0.1:9000", path, [], headers, credentials, "us-east-1", SigningKeys()
    )
    theirs = _botocore_authorization(
        method,
        url,
        {"Range": "bytes=0-99"} if headers else {},
        credentials,
        "us-east-1",
    )
    assert ours == theirs


@pytest.mark.parametrize(
    "query",
    [
        [("list-type", "2"), ("prefix", "dir/sub dir/"), ("delimiter", "/")],
        [("list-type", "2"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm3=")],
        [("list-type", "2"), ("prefix", "ünï/+=&?"), ("start-after", "a b"), ("max-keys", "1")],
        [("versionId", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")],
        [("list-type", "2"), ("encoding-type", "url"), ("fetch-owner", "true")],
    ],
)
def test_query_strings_sign_like_botocore(query: list[tuple[str, str]]) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret/with+chars=", "token")
    ours, url = _ours(
        "GET",
        "s3.eu-west-1.amazonaws.com",
        "/bucket",
        query,
        {},
        credentials,
        "eu-west-1",
        SigningKeys(),
    )
    assert ours == _botocore_authorization("GET", url, {}, credentials, "eu-west-1")


def test_signing_keys_are_cached_per_secret_date_and_region() -> None:
    keys = SigningKeys()
    first = keys.get("secret", "20261125", "us-east-1")
    assert keys.get("secret", "20261125", "us-east-1") is first
    assert keys.get("secret", "20261126", "us-east-1") != first
    assert keys.get("other", "20261125", "us-east-1") != first
    assert "secret" not in repr(keys)


def test_the_cache_stays_small() -> None:
    keys = SigningKeys()
    for day in range(100):
        keys.get("secret", f"202611{day:02d}", "us-east-1")
    assert len(keys._keys) <= 16
