"""The lean request path: GetObject, HeadObject and ListObjectsV2 without botocore's overhead.

botocore spends ~0.75 ms of CPU per request (handlers, serialising, signing, XML and timestamp
parsing). For the hot read operations this module sends the request itself, over a small
HTTP/1.1 connection pool of its own (:mod:`aios3path._http`) configured like the aiobotocore
client it accompanies (TLS verification and CA bundle, connect and read timeouts, pool size),
and keeps botocore's semantics:

* endpoint, addressing style and signing region come from botocore, resolved once per bucket
  (by presigning a probe URL: botocore's full endpoint resolution, no request sent);
* credentials come from the client's provider on every request, so refresh keeps working;
* retries follow the client's configured attempts in botocore's standard manner (5xx,
  throttling, connection errors; backoff with full jitter);
* errors become the same exceptions as on the botocore path;
* full-object GETs verify the CRC32 checksum when the response carries one;
* keys round-trip exactly (paths are never normalised, listings use ``encoding-type=url``).

Anything it does not support raises :class:`Unsupported` before a request is sent, and a
region redirect marks the bucket for botocore; the caller then uses aiobotocore, which
handles the redirect and remembers the region.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import math
import os
import random
import re
import sys
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree

import aiohttp
from aiobotocore.httpsession import AIOHTTPSession
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    FlexibleChecksumError,
    ReadTimeoutError,
    SSLError,
)

from ._http import (
    BodyStream,
    Buffer,
    HttpCertificateError,
    HttpConnectError,
    HttpConnectionError,
    HttpConnectTimeoutError,
    HttpPool,
    HttpPoolClosedError,
    HttpResponse,
    HttpTimeoutError,
    HttpTLSError,
    Origin,
    UnframedStreamError,
)
from ._listing_xml import xml_unescape
from ._sigv4 import EMPTY_SHA256, SigningKeys, authorization, canonical_query
from ._timestamps import parse_http_date, parse_iso8601

_PROBE_KEY = "aios3path-endpoint-probe"
_MAX_BACKOFF = 20.0
_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
    }
)
_RETRY_STATUS = frozenset({500, 502, 503, 504})
_UNSIGNED = "UNSIGNED-PAYLOAD"
#: Bodies at least this large have their CRC32 computed off the event loop (zlib lets go of
#: the GIL), so other requests go on meanwhile.
_THREADED_CRC = 1024 * 1024
#: Operations whose 200 answer can still carry an ``<Error>`` (the server failed mid-way), with
#: the root element their real answer has: anything else in a 200 is treated as a 500.
_ERRORS_IN_200 = {"CopyObject": b"<CopyObjectResult"}
_COPY_ETAG = re.compile(rb"<ETag>([^<]*)</ETag>")
_COPY_DATE = re.compile(rb"<LastModified>([^<]*)</LastModified>")
_REDIRECT_CODES = frozenset(
    {"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed"}
)

#: Registered parameters the lean path can send, per operation:
#: name -> ("query" or "header", the name on the wire).
_REQUEST_HEADERS: dict[str, tuple[str, str]] = {
    "RequestPayer": ("header", "x-amz-request-payer"),
    "ExpectedBucketOwner": ("header", "x-amz-expected-bucket-owner"),
}
_OBJECT_READ: dict[str, tuple[str, str]] = {
    **_REQUEST_HEADERS,
    "VersionId": ("query", "versionId"),
    "PartNumber": ("query", "partNumber"),
    "IfMatch": ("header", "if-match"),
    "IfNoneMatch": ("header", "if-none-match"),
    "ChecksumMode": ("header", "x-amz-checksum-mode"),
}
#: Storage parameters a copy can carry (all headers; booleans as ``true``/``false``).
_COPY_HEADERS: dict[str, tuple[str, str]] = {
    **_REQUEST_HEADERS,
    "ExpectedSourceBucketOwner": ("header", "x-amz-source-expected-bucket-owner"),
    "ServerSideEncryption": ("header", "x-amz-server-side-encryption"),
    "SSEKMSKeyId": ("header", "x-amz-server-side-encryption-aws-kms-key-id"),
    "SSEKMSEncryptionContext": ("header", "x-amz-server-side-encryption-context"),
    "BucketKeyEnabled": ("header", "x-amz-server-side-encryption-bucket-key-enabled"),
    "StorageClass": ("header", "x-amz-storage-class"),
    "ACL": ("header", "x-amz-acl"),
    "GrantFullControl": ("header", "x-amz-grant-full-control"),
    "GrantRead": ("header", "x-amz-grant-read"),
    "GrantReadACP": ("header", "x-amz-grant-read-acp"),
    "GrantWriteACP": ("header", "x-amz-grant-write-acp"),
    "WebsiteRedirectLocation": ("header", "x-amz-website-redirect-location"),
    "MetadataDirective": ("header", "x-amz-metadata-directive"),
    "CopySourceIfMatch": ("header", "x-amz-copy-source-if-match"),
    "Tagging": ("header", "x-amz-tagging"),
    "TaggingDirective": ("header", "x-amz-tagging-directive"),
}
_SUPPORTED: dict[str, dict[str, tuple[str, str]]] = {
    "GetObject": _OBJECT_READ,
    "HeadObject": _OBJECT_READ,
    "ListObjectsV2": _REQUEST_HEADERS,
    "UploadPart": _REQUEST_HEADERS,
    "CopyObject": _COPY_HEADERS,
}

#: HEAD response headers and the botocore response fields they become.
_HEAD_FIELDS = {
    "etag": "ETag",
    "content-type": "ContentType",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "content-disposition": "ContentDisposition",
    "cache-control": "CacheControl",
    "accept-ranges": "AcceptRanges",
    "x-amz-version-id": "VersionId",
    "x-amz-storage-class": "StorageClass",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-checksum-crc32": "ChecksumCRC32",
    "x-amz-expiration": "Expiration",
    "x-amz-restore": "Restore",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
}


_last_date: tuple[int, str] = (0, "")


def _amz_date() -> str:
    """The ``x-amz-date`` of now, formatted once per second."""
    global _last_date
    now = int(time.time())
    if _last_date[0] != now:
        _last_date = (now, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)))
    return _last_date[1]


#: aiobotocore ``connector_args`` the lean pool follows: how long an idle connection is kept,
#: and DNS caching, which only saves lookups (the pool resolves the host for each new
#: connection). Any other (``ssl_context``, ``resolver``, ``socket_factory``, ``force_close``)
#: changes how connections are made, so clients with one stay on botocore.
_CONNECTOR_ARGS_HONOURED = frozenset({"keepalive_timeout", "use_dns_cache", "ttl_dns_cache"})
#: aiohttp's idle time for kept-alive connections when ``connector_args`` sets none (``None``
#: there keeps them for as long as the server does).
_DEFAULT_KEEPALIVE = 15.0


class Unsupported(Exception):
    """The lean path cannot send this request; use aiobotocore instead."""


@dataclass(frozen=True)
class _Endpoint:
    url: str  # scheme://host[:port], for error messages
    origin: Origin
    host: str  # the Host header
    base_path: str  # "/bucket/" (path style) or "/" (virtual host style)
    region: str

    @property
    def list_path(self) -> str:
        return self.base_path if self.base_path == "/" else self.base_path[:-1]


class LeanClient:
    """The lean operations for one aiobotocore client (same endpoint, credentials, pool)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        http = client._endpoint.http_session
        self._http = http
        self._max_attempts = _max_attempts(getattr(client.meta.config, "retries", None) or {})
        self._credentials = client._request_signer._credentials
        self._keys = SigningKeys()
        self._endpoints: dict[str, _Endpoint] = {}
        self._botocore_buckets: set[str] = set()
        self._user_agent = f"aios3path-lean Python/{sys.version_info[0]}.{sys.version_info[1]}"
        self._pool: HttpPool | None = None
        self._closed = False
        self._pool_creating: asyncio.Future[HttpPool] | None = None

    @classmethod
    def for_client(cls, client: Any) -> LeanClient | None:
        """A lean client for ``client``, or ``None`` where its configuration needs botocore."""
        if os.environ.get("AIOS3PATH_LEAN_REQUESTS", "1").lower() in ("0", "false", "no"):
            return None
        config = client.meta.config
        http = getattr(getattr(client, "_endpoint", None), "http_session", None)
        known = ("_proxy_config", "_build_ssl_contexts", "_timeout", "_max_pool_connections")
        if not isinstance(http, AIOHTTPSession) or not all(hasattr(http, n) for n in known):
            return None  # another HTTP backend (httpx), or a version we do not know
        if not isinstance(getattr(http, "_timeout", None), aiohttp.ClientTimeout):
            return None
        if getattr(config, "signature_version", None) not in (None, "s3v4"):
            return None
        if (getattr(config, "retries", None) or {}).get("mode") == "adaptive":
            return None
        if getattr(config, "client_cert", None) or getattr(config, "proxies", None):
            return None
        if getattr(client._request_signer, "_credentials", None) is None:
            return None  # unsigned requests: let botocore handle them
        connector_args = getattr(http, "_connector_args", None) or {}
        if not set(connector_args) <= _CONNECTOR_ARGS_HONOURED:
            return None  # a TLS context, resolver, socket factory or force_close of the user's
        return cls(client)

    async def aclose(self) -> None:
        """Close the lean path's connections (later requests go through botocore)."""
        self._closed = True
        if self._pool_creating is not None:
            await asyncio.wait({self._pool_creating})
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()

    def forget(self) -> None:
        """Drop the lean path's connections without I/O (after fork, or with a closed loop)."""
        self._closed = True
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.forget()

    # -- plumbing -------------------------------------------------------------------------

    async def _http_pool(self, secure: bool) -> HttpPool:
        """The connection pool, with the aiobotocore session's settings (and its TLS
        context once an https endpoint needs it)."""
        if self._pool_creating is None:
            self._pool_creating = asyncio.ensure_future(self._prepare_pool(secure))
        creating = self._pool_creating
        try:
            return await asyncio.shield(creating)
        finally:
            if creating.done() and self._pool_creating is creating:
                self._pool_creating = None

    async def _prepare_pool(self, secure: bool) -> HttpPool:
        if self._closed:
            raise Unsupported("closed")
        http = self._http
        pool = self._pool
        if pool is None:
            timeout = http._timeout
            connector_args = getattr(http, "_connector_args", None) or {}
            keepalive = connector_args.get("keepalive_timeout", _DEFAULT_KEEPALIVE)
            pool = HttpPool(
                limit=int(http._max_pool_connections),
                connect_timeout=getattr(timeout, "sock_connect", None),
                read_timeout=getattr(timeout, "sock_read", None),
                keepalive=math.inf if keepalive is None else float(keepalive),
            )
        if secure and pool.ssl_context is None:
            # The session's verify and CA bundle settings; loading them is file I/O.
            pool.ssl_context, _ = await asyncio.to_thread(http._build_ssl_contexts, None)
        self._pool = pool
        return pool

    def _check_bucket(self, bucket: str) -> None:
        if self._closed:
            raise Unsupported("closed")
        if bucket in self._botocore_buckets or ":" in bucket or bucket.endswith("--x-s3"):
            raise Unsupported(bucket)

    async def _endpoint(self, bucket: str) -> _Endpoint:
        endpoint = self._endpoints.get(bucket)
        if endpoint is not None:
            return endpoint
        url = await self._client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": _PROBE_KEY}, ExpiresIn=60
        )
        parts = urlsplit(url)
        if not parts.path.endswith("/" + _PROBE_KEY):
            raise Unsupported(bucket)
        if self._http._proxy_config.proxy_url_for(url):
            raise Unsupported("proxy")
        credential = parse_qs(parts.query).get("X-Amz-Credential", [""])[0].split("/")
        if len(credential) < 5:
            raise Unsupported(bucket)
        host = parts.netloc
        if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
            host = parts.hostname or host
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise Unsupported(parts.scheme)
        default_port = 443 if parts.scheme == "https" else 80
        endpoint = _Endpoint(
            url=f"{parts.scheme}://{parts.netloc}",
            origin=Origin(parts.scheme, parts.hostname, parts.port or default_port),
            host=host,
            base_path=parts.path[: -len(_PROBE_KEY)],
            region=credential[2],
        )
        self._endpoints[bucket] = endpoint
        return endpoint

    @staticmethod
    def _wire_parameters(
        operation: str, params: Mapping[str, Any]
    ) -> tuple[list[tuple[str, str]], dict[str, str]]:
        supported = _SUPPORTED[operation]
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        for name, value in params.items():
            where = supported.get(name)
            if where is None:
                raise Unsupported(name)
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if "\r" in text or "\n" in text:
                raise Unsupported(name)  # botocore refuses it with its own error
            if where[0] == "query":
                query.append((where[1], text))
            else:
                headers[where[1]] = text
        return query, headers

    async def _send(
        self,
        method: str,
        bucket: str,
        key: str | None,
        query_pairs: list[tuple[str, str]],
        extra_headers: Mapping[str, str],
        operation: str,
        body: Buffer | None = None,
        into: bytearray | memoryview | None = None,
        stream: bool = False,
    ) -> HttpResponse:
        """Sign and send one request with retries; returns the whole response.

        With ``stream``, a successful response returns after its head, with the body in
        ``response.stream`` (retries end there: a body that breaks off is the caller's).

        A ``body`` is sent as ``UNSIGNED-PAYLOAD`` (its integrity is the CRC32 checksum header
        the caller adds, as botocore does over TLS), so it is never hashed here.
        """
        self._check_bucket(bucket)
        endpoint = await self._endpoint(bucket)
        pool = self._pool
        while pool is None or (endpoint.origin.secure and pool.ssl_context is None):
            pool = await self._http_pool(endpoint.origin.secure)
            if self._closed:
                raise Unsupported("closed")
        path = endpoint.list_path if key is None else endpoint.base_path + quote(key, safe="/~")
        query = canonical_query(query_pairs)
        target = path + "?" + query if query else path
        attempt = 0
        while True:
            attempt += 1
            frozen = await self._credentials.get_frozen_credentials()
            amz_date = _amz_date()
            headers = {
                "host": endpoint.host,
                "x-amz-date": amz_date,
                "x-amz-content-sha256": EMPTY_SHA256 if body is None else _UNSIGNED,
                **extra_headers,
            }
            if frozen.token:
                headers["x-amz-security-token"] = frozen.token
            headers["authorization"] = authorization(
                self._keys,
                method=method,
                path=path,
                query=query,
                headers=headers,
                access_key=frozen.access_key,
                secret_key=frozen.secret_key,
                region=endpoint.region,
                amz_date=amz_date,
                payload_hash=headers["x-amz-content-sha256"],
            )
            headers["user-agent"] = self._user_agent
            if body is not None:  # not signed (botocore does not sign it either)
                headers["content-length"] = str(memoryview(body).nbytes)
            lines = [f"{method} {target} HTTP/1.1"]
            lines.extend(f"{name}: {value}" for name, value in headers.items())
            lines.append("\r\n")
            try:
                head = "\r\n".join(lines).encode("ascii")
            except UnicodeEncodeError:  # botocore's way with other characters is the reference
                raise Unsupported("a header that is not ASCII") from None
            try:
                response = await pool.request(
                    endpoint.origin,
                    head,
                    body,
                    head_request=method == "HEAD",
                    into=into,
                    stream=stream,
                )
            except UnframedStreamError:
                raise Unsupported("a streamed body without Content-Length") from None
            except HttpConnectionError as error:
                if attempt >= self._max_attempts or isinstance(
                    error, (HttpCertificateError, HttpPoolClosedError)
                ):  # retrying cannot help these
                    raise _botocore_connection_error(error, endpoint.url) from error
                await asyncio.sleep(self._backoff(attempt))
                continue
            status, response_headers = response.status, response.headers
            expected_root = _ERRORS_IN_200.get(operation)
            if (
                status == 200
                and expected_root
                and not _has_root(_whole(response.body), expected_root)
            ):
                status = 500  # S3 failed after it had sent its 200: botocore retries these too
            elif status < 300:
                return response
            code, message, details = _error_details(status, _whole(response.body), response_headers)
            if (
                code in _REDIRECT_CODES
                or status in (301, 307)
                or (status == 400 and "x-amz-bucket-region" in response_headers)
            ):
                self._botocore_buckets.add(bucket)
                self._endpoints.pop(bucket, None)
                raise Unsupported("redirect")
            retryable = status in _RETRY_STATUS or status == 429 or code in _THROTTLING
            if retryable and attempt < self._max_attempts:
                await asyncio.sleep(self._backoff(attempt))
                continue
            error_response: Any = {
                "Error": {"Code": code, "Message": message, **details},
                "ResponseMetadata": {
                    "HTTPStatusCode": status,
                    "HTTPHeaders": response_headers,
                    "RetryAttempts": attempt - 1,
                },
            }
            raise ClientError(error_response, operation)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return random.random() * min(_MAX_BACKOFF, 2.0 ** (attempt - 1))

    # -- operations -----------------------------------------------------------------------

    async def head_object(self, bucket: str, key: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``HeadObject``, answered as botocore shapes it."""
        query, headers = self._wire_parameters("HeadObject", params)
        response = await self._send("HEAD", bucket, key, query, headers, "HeadObject")
        return _head_response(response.status, response.headers)

    async def get_object(
        self,
        bucket: str,
        key: str,
        params: Mapping[str, Any],
        byte_range: tuple[int, int] | None,
        into: bytearray | memoryview | None = None,
    ) -> Buffer:
        """``GetObject``: the body, whole (checksum verified) or the inclusive byte range.

        A body of 64 KiB or more is the buffer it was received into: ``into`` (a buffer, or
        a writable view into one) if it has the body's size, else a new ``bytearray``.
        """
        body, _, _ = await self.get_object_with_size(bucket, key, params, byte_range, into)
        return body

    async def get_object_with_size(
        self,
        bucket: str,
        key: str,
        params: Mapping[str, Any],
        byte_range: tuple[int, int] | None,
        into: bytearray | memoryview | None = None,
    ) -> tuple[Buffer, int, str | None]:
        """``GetObject`` returning ``(body, the object's whole size, its ETag)``."""
        query, headers = self._wire_parameters("GetObject", params)
        if byte_range is not None:
            headers["range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        else:
            headers.setdefault("x-amz-checksum-mode", "ENABLED")
        response = await self._send("GET", bucket, key, query, headers, "GetObject", into=into)
        status, response_headers = response.status, response.headers
        body = response.body
        expected = response_headers.get("x-amz-checksum-crc32")
        if byte_range is None and status == 200 and expected and "-" not in expected:
            actual = _crc32_text(zlib.crc32(body))
            if actual != expected:  # what botocore raises, in its words
                raise FlexibleChecksumError(
                    error_msg=f"Expected checksum {expected} did not match calculated "
                    f"checksum: {actual}"
                )
        size = len(body)
        content_range = response_headers.get("content-range", "")
        if status == 206 and "/" in content_range:
            total = content_range.rsplit("/", 1)[1]
            size = int(total) if total.isdigit() else size
        return body, size, response_headers.get("etag")

    async def open_object(
        self,
        bucket: str,
        key: str,
        params: Mapping[str, Any],
        byte_range: tuple[int, int] | None,
    ) -> tuple[dict[str, Any], BodyStream]:
        """``GetObject`` (whole, or the inclusive byte range) whose body is read as it arrives.

        Returns the response shaped as botocore's (without ``Body``) and the body stream,
        which the caller must close. No checksum is asked for: a stream may be read in part.
        """
        query, headers = self._wire_parameters("GetObject", params)
        if byte_range is not None:
            headers["range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await self._send("GET", bucket, key, query, headers, "GetObject", stream=True)
        shaped = _head_response(response.status, response.headers)
        if "content-range" in response.headers:
            shaped["ContentRange"] = response.headers["content-range"]
        stream = response.stream
        if stream is None:  # an empty body
            stream = BodyStream.of(response.body)
        return shaped, stream

    async def list_objects_v2(
        self,
        bucket: str,
        arguments: Mapping[str, Any],
        params: Mapping[str, Any],
    ) -> bytes | bytearray:
        """``ListObjectsV2`` with botocore-style ``arguments``; returns the response body.

        :mod:`aios3path._listing_xml` reads it (the caller decides when: the next page's
        request can be sent first).
        """
        query, headers = self._wire_parameters("ListObjectsV2", params)
        names = {
            "Prefix": "prefix",
            "Delimiter": "delimiter",
            "ContinuationToken": "continuation-token",
            "MaxKeys": "max-keys",
            "StartAfter": "start-after",
        }
        query.append(("list-type", "2"))
        query.append(("encoding-type", "url"))
        for name, value in arguments.items():
            if name == "Bucket":
                continue
            if name == "FetchOwner":
                query.append(("fetch-owner", "true" if value else "false"))
            elif name in names:
                query.append((names[name], str(value)))
            else:
                raise Unsupported(name)
        response = await self._send("GET", bucket, None, query, headers, "ListObjectsV2")
        return _whole(response.body)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: Buffer,
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        """``UploadPart`` with a CRC32 checksum; returns ``{"ETag", "ChecksumCRC32"}``.

        The upload must have been created with ``ChecksumAlgorithm="CRC32"``.
        """
        query, headers = self._wire_parameters("UploadPart", params)
        query += [("partNumber", str(part_number)), ("uploadId", upload_id)]
        headers["x-amz-checksum-crc32"] = await crc32_base64(body)
        response = await self._send("PUT", bucket, key, query, headers, "UploadPart", body)
        result: dict[str, Any] = {"ETag": response.headers.get("etag", "")}
        checksum = response.headers.get("x-amz-checksum-crc32")
        if checksum:
            result["ChecksumCRC32"] = checksum
        return result

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """``AbortMultipartUpload`` (one signed ``DELETE``; S3 answers 204)."""
        await self._send(
            "DELETE", bucket, key, [("uploadId", upload_id)], {}, "AbortMultipartUpload"
        )

    async def copy_object(
        self,
        bucket: str,
        key: str,
        source_bucket: str,
        source_key: str,
        params: Mapping[str, Any],
        source_version_id: str | None = None,
    ) -> dict[str, Any]:
        """``CopyObject`` with botocore-style ``params``; answered as botocore shapes it."""
        self._check_bucket(source_bucket)  # an access point or Express source: botocore's job
        query, headers = self._wire_parameters("CopyObject", params)
        source = quote(f"{source_bucket}/{source_key}", safe="-._~/")
        if source_version_id:
            source += "?versionId=" + quote(source_version_id, safe="-._~")
        headers["x-amz-copy-source"] = source
        response = await self._send("PUT", bucket, key, query, headers, "CopyObject", b"")
        result: dict[str, Any] = {"CopyObjectResult": {}}
        etag = _COPY_ETAG.search(response.body)
        if etag is not None:
            result["CopyObjectResult"]["ETag"] = xml_unescape(etag.group(1).decode())
        modified = _COPY_DATE.search(response.body)
        if modified is not None:
            result["CopyObjectResult"]["LastModified"] = parse_iso8601(modified.group(1).decode())
        version = response.headers.get("x-amz-version-id")
        if version:
            result["VersionId"] = version
        return result


async def crc32_base64(body: Buffer) -> str:
    """The base64 CRC32 of ``body`` (computed in a worker thread for large bodies)."""
    if memoryview(body).nbytes >= _THREADED_CRC:
        # A future of our own, running from the start: nothing can cancel it (a loop shutting
        # down cancels every task, the executor's wrapper included) while the thread reads.
        computed: concurrent.futures.Future[int] = concurrent.futures.Future()
        computed.set_running_or_notify_cancel()

        def compute() -> None:
            try:
                computed.set_result(zlib.crc32(body))
            except BaseException as error:  # pragma: no cover - crc32 of a buffer cannot fail
                computed.set_exception(error)

        asyncio.get_running_loop().run_in_executor(None, compute)
        try:
            value = await asyncio.wrap_future(computed)
        except asyncio.CancelledError:
            # The thread still reads ``body``: the caller may release it only once that ends
            # (milliseconds; waited for without the loop if it is being torn down).
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({asyncio.wrap_future(computed)})
            computed.result()
            raise
    else:
        value = zlib.crc32(body)
    return _crc32_text(value)


def _crc32_text(value: int) -> str:
    """A CRC32 as S3's checksum headers carry it: the 4 big-endian bytes, base64."""
    return base64.b64encode(value.to_bytes(4, "big")).decode()


def _whole(body: Buffer) -> bytes | bytearray:
    """A body to parse (one received into a caller's view, never an error, is copied out)."""
    return bytes(body) if isinstance(body, memoryview) else body


def _has_root(body: bytes | bytearray, root: bytes) -> bool:
    """Whether the XML document ``body`` starts with the element ``root`` (``b"<Name"``)."""
    start = body.find(b"<", body.find(b"?>") + 2 if body.lstrip().startswith(b"<?xml") else 0)
    if start < 0 or body[start : start + len(root)] != root:
        return False
    after = body[start + len(root) : start + len(root) + 1]
    return after in (b">", b" ", b"/", b"\n", b"\r", b"\t")


def _max_attempts(retries: Mapping[str, Any]) -> int:
    """How many times botocore would send a request with these ``retries`` settings: the
    configured total, else its mode's default (legacy, botocore's default mode: 5; standard
    and adaptive: 3)."""
    total = retries.get("total_max_attempts")
    if total:
        return int(total)
    return 3 if retries.get("mode") in ("standard", "adaptive") else 5


def _reason(status: int) -> str:
    """The status's reason phrase (``Service Unavailable``), as botocore's message for an error
    without a body."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _error_details(
    status: int, body: bytes | bytearray, headers: Mapping[str, str]
) -> tuple[str, str, dict[str, str]]:
    if body:
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            root = None
        if root is not None:
            fields = {child.tag.split("}")[-1]: (child.text or "") for child in root}
            code = fields.pop("Code", "") or str(status)
            message = fields.pop("Message", "")
            return code, message, fields
    return str(status), _reason(status), {}


def _botocore_connection_error(error: HttpConnectionError, url: str) -> Exception:
    """The exception botocore raises for the same kind of connection failure."""
    if isinstance(error, HttpConnectTimeoutError):
        return ConnectTimeoutError(endpoint_url=url, error=error)
    if isinstance(error, HttpTLSError):
        return SSLError(endpoint_url=url, error=error)
    if isinstance(error, HttpTimeoutError):
        return ReadTimeoutError(endpoint_url=url, error=error)
    if isinstance(error, HttpConnectError):
        return EndpointConnectionError(endpoint_url=url, error=error)
    return ConnectionClosedError(endpoint_url=url, error=error)


def _head_response(status: int, lowered: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": lowered},
        "ContentLength": int(lowered.get("content-length", 0)),
        "Metadata": {
            k[len("x-amz-meta-") :]: v for k, v in lowered.items() if k.startswith("x-amz-meta-")
        },
    }
    if "last-modified" in lowered:
        result["LastModified"] = parse_http_date(lowered["last-modified"])
    for header, name in _HEAD_FIELDS.items():
        if header in lowered:
            result[name] = lowered[header]
    if lowered.get("x-amz-delete-marker") == "true":
        result["DeleteMarker"] = True
    return result
