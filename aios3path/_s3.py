"""The only module that sends S3 requests: small async operations over an aiobotocore client.

Path logic calls these functions and never the client itself, so that the request path can be
optimised in one place. Every function translates botocore errors into the library's
exceptions, naming ``uri`` (the ``s3://`` path the request is for).

``params`` arguments are the per-prefix parameters registered by the user; each operation sends
only those its S3 API accepts (``ServerSideEncryption`` reaches ``PutObject`` but not
``GetObject``), and never lets them override the arguments the operation sets itself.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree

import aiohttp
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import (
    HTTPClientError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from ._entries import ListPage as ListPage  # re-exported: the listing types live here too
from ._entries import ObjectEntry as ObjectEntry
from ._errors import S3Error, make_error, s3_errors
from ._http import BodyStream, Buffer, HttpConnectionError, StreamPreemptedError
from ._lean import LeanClient, Unsupported
from ._listing_xml import next_token_hint, parse_list_page

_MEMBERS_CACHE: dict[str, frozenset[str]] = {}


def _accepted(client: Any, operation: str, params: Mapping[str, Any], *own: str) -> dict[str, Any]:
    """The registered parameters that ``operation`` accepts, minus those it sets itself."""
    if not params:
        return {}
    members = _MEMBERS_CACHE.get(operation)
    if members is None:
        shape = client.meta.service_model.operation_model(operation).input_shape
        members = frozenset(shape.members)
        _MEMBERS_CACHE[operation] = members
    return {k: v for k, v in params.items() if k in members and k not in own}


async def head_object(
    client: Any, uri: str, bucket: str, key: str, params: Mapping[str, Any] = {}
) -> dict[str, Any]:
    """``HeadObject``: the object's metadata (``FileNotFoundError`` when it is missing)."""
    with s3_errors(uri):
        extra = _accepted(client, "HeadObject", params, "Bucket", "Key")
        lean: LeanClient | None = getattr(client, "lean", None)
        if lean is not None:
            with contextlib.suppress(Unsupported):
                return await lean.head_object(bucket, key, extra)
        response: dict[str, Any] = await client.head_object(Bucket=bucket, Key=key, **extra)
        return response


async def get_object(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    params: Mapping[str, Any] = {},
    *,
    byte_range: tuple[int, int] | None = None,
) -> bytes:
    """``GetObject``: the whole object, or bytes ``start..end`` inclusive of ``byte_range``."""
    data = await get_object_buffer(client, uri, bucket, key, params, byte_range=byte_range)
    return data if type(data) is bytes else bytes(data)


async def get_object_buffer(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    params: Mapping[str, Any] = {},
    *,
    byte_range: tuple[int, int] | None = None,
    into: bytearray | memoryview | None = None,
) -> Buffer:
    """:func:`get_object`, but a large body may come as the buffer it was received into.

    For callers that copy the data somewhere anyway (a reader's part buffer, a slice of the
    whole object): converting to ``bytes`` first would copy it twice. ``into``, a writable
    buffer of the body's size, is received into where the lean path can (then it is what
    comes back).
    """
    with s3_errors(uri):
        extra = _accepted(client, "GetObject", params, "Bucket", "Key", "Range")
        lean: LeanClient | None = getattr(client, "lean", None)
        if lean is not None:
            with contextlib.suppress(Unsupported):
                return await lean.get_object(bucket, key, extra, byte_range, into)
        if byte_range is not None:
            extra["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await client.get_object(Bucket=bucket, Key=key, **extra)
        async with response["Body"] as body:
            try:
                data: bytes = await body.read()
            except _STREAM_ERRORS as error:  # aiohttp's own errors would escape as they are
                raise ObjectStreamError(
                    f"{uri}: the connection broke while receiving the object ({error})"
                ) from error
        return data


async def get_object_start(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    params: Mapping[str, Any],
    length: int,
) -> tuple[Buffer, int, str | None] | None:
    """The first ``length`` bytes of an object with its whole size and ETag, in one GET.

    Only through the lean path (``None`` where it does not serve the request: use
    :func:`start_object` then). An empty object raises ``InvalidRange`` like any ranged GET.
    """
    lean: LeanClient | None = getattr(client, "lean", None)
    if lean is None:
        return None
    with s3_errors(uri):
        extra = _accepted(client, "GetObject", params, "Bucket", "Key", "Range")
        try:
            return await lean.get_object_with_size(bucket, key, extra, (0, length - 1))
        except Unsupported:
            return None


async def put_object(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    body: bytes,
    params: Mapping[str, Any] = {},
    **arguments: Any,
) -> dict[str, Any]:
    """``PutObject`` of ``body`` with the registered parameters and ``arguments``."""
    with s3_errors(uri):
        extra = _accepted(client, "PutObject", params, "Bucket", "Key", "Body", *arguments)
        response: dict[str, Any] = await client.put_object(
            Bucket=bucket, Key=key, Body=_request_body(body), **extra, **arguments
        )
        return response


async def delete_object(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    params: Mapping[str, Any] = {},
    *,
    if_match: str | None = None,
) -> None:
    """``DeleteObject`` (S3 answers success for a missing key too).

    With ``if_match`` (an ETag) the key is deleted only while it holds that object: S3 answers
    412 ``PreconditionFailed`` when it holds another, and 404 ``NoSuchKey`` when it is gone.
    """
    with s3_errors(uri):
        # A versioned path's VersionId never reaches a delete: unlink acts on the plain key
        # (adding a delete marker), it does not destroy one version.
        extra = _accepted(client, "DeleteObject", params, "Bucket", "Key", "VersionId", "IfMatch")
        if if_match is not None:
            extra["IfMatch"] = if_match
        await client.delete_object(Bucket=bucket, Key=key, **extra)


@dataclass(frozen=True, slots=True)
class DeleteFailure:
    """A key that ``DeleteObjects`` did not delete, with S3's reason."""

    key: str
    code: str
    message: str


async def delete_objects(
    client: Any,
    uri: str,
    bucket: str,
    keys: Iterable[str],
    params: Mapping[str, Any] = {},
    *,
    etags: Mapping[str, str | None] = {},
) -> list[DeleteFailure]:
    """``DeleteObjects`` of at most 1,000 keys; returns the keys S3 reports as failed.

    A key with an ETag in ``etags`` is deleted only while it holds that object (otherwise it
    fails with ``PreconditionFailed``, or ``NoSuchKey`` when it is gone).
    """
    objects = [{"Key": k, "ETag": etags[k]} if etags.get(k) else {"Key": k} for k in keys]
    with s3_errors(uri):
        extra = _accepted(client, "DeleteObjects", params, "Bucket", "Delete")
        response = await client.delete_objects(
            Bucket=bucket, Delete={"Objects": objects, "Quiet": True}, **extra
        )
    return [
        DeleteFailure(e.get("Key", ""), e.get("Code", ""), e.get("Message", ""))
        for e in response.get("Errors", ())
    ]


def _owner_name(owner: Mapping[str, str] | None) -> str | None:
    if not owner:
        return None
    return owner.get("DisplayName") or owner.get("ID")


@dataclass(slots=True)
class PendingPage:
    """A fetched listing page, read on demand by :meth:`page`.

    ``token_hint`` is the next page's token as far as it is known before reading the page:
    the request for the next page can go out while this one is parsed.
    """

    token_hint: str | None
    uri: str = ""
    _body: bytes | bytearray | None = None
    _page: ListPage | None = None

    def page(self) -> ListPage:
        """The page (parsed on the first call); an unreadable body raises :class:`S3Error`."""
        if self._page is None:
            assert self._body is not None
            try:
                self._page = parse_list_page(self._body)
            except (ElementTree.ParseError, ValueError) as error:
                raise make_error(
                    S3Error, self.uri, f"the listing could not be read: {error}", "ListObjectsV2"
                ) from error
            self._body = None
        return self._page


def _page_from_botocore(response: Mapping[str, Any]) -> ListPage:
    objects = [
        ObjectEntry(
            key=item["Key"],
            size=item.get("Size", 0),
            last_modified=item.get("LastModified"),
            etag=item.get("ETag"),
            owner=_owner_name(item.get("Owner")),
        )
        for item in response.get("Contents", ())
    ]
    prefixes = [p["Prefix"] for p in response.get("CommonPrefixes", ())]
    next_token = (
        response.get("NextContinuationToken") or None if response.get("IsTruncated") else None
    )
    return ListPage(objects, prefixes, next_token)


async def fetch_list_page(
    client: Any,
    uri: str,
    bucket: str,
    prefix: str,
    *,
    delimiter: str | None = None,
    token: str | None = None,
    max_keys: int | None = None,
    start_after: str | None = None,
    fetch_owner: bool = False,
    params: Mapping[str, Any] = {},
) -> PendingPage:
    """One ``ListObjectsV2`` page under ``prefix``, not yet parsed where that can wait."""
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        arguments["Delimiter"] = delimiter
    if token:
        arguments["ContinuationToken"] = token
    if max_keys is not None:
        arguments["MaxKeys"] = max_keys
    if start_after:
        arguments["StartAfter"] = start_after
    if fetch_owner:
        arguments["FetchOwner"] = True
    with s3_errors(uri):
        extra = _accepted(client, "ListObjectsV2", params, *arguments, "EncodingType")
        lean: LeanClient | None = getattr(client, "lean", None)
        if lean is not None:
            try:
                body = await lean.list_objects_v2(bucket, arguments, extra)
            except Unsupported:
                pass
            else:
                return PendingPage(next_token_hint(body), uri, _body=body)
        response = await client.list_objects_v2(**arguments, **extra)
    page = _page_from_botocore(response)
    return PendingPage(page.next_token, uri, _page=page)


async def list_page(client: Any, uri: str, bucket: str, prefix: str, **options: Any) -> ListPage:
    """One ``ListObjectsV2`` page under ``prefix``, parsed (``options``: those of
    :func:`fetch_list_page`)."""
    return (await fetch_list_page(client, uri, bucket, prefix, **options)).page()


async def head_bucket(client: Any, uri: str, bucket: str, params: Mapping[str, Any] = {}) -> bool:
    """``HeadBucket``: True if the bucket exists, False on 404; other errors raise."""
    try:
        with s3_errors(uri):
            extra = _accepted(client, "HeadBucket", params, "Bucket")
            await client.head_bucket(Bucket=bucket, **extra)
    except FileNotFoundError:
        return False
    return True


async def create_bucket(client: Any, uri: str, bucket: str, params: Mapping[str, Any] = {}) -> None:
    """``CreateBucket`` in the client's region."""
    arguments: dict[str, Any] = {"Bucket": bucket}
    region = client.meta.region_name
    if region and region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with s3_errors(uri):
        arguments.update(_accepted(client, "CreateBucket", params, *arguments))
        await client.create_bucket(**arguments)


async def delete_bucket(client: Any, uri: str, bucket: str) -> None:
    """``DeleteBucket`` (the bucket must be empty)."""
    with s3_errors(uri):
        await client.delete_bucket(Bucket=bucket)


async def list_buckets(client: Any, uri: str) -> list[str]:
    """``ListBuckets``: every bucket name the credentials can see."""
    with s3_errors(uri):
        names: list[str] = []
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {"ContinuationToken": token} if token else {}
            response = await client.list_buckets(**arguments)
            names.extend(b["Name"] for b in response.get("Buckets", ()))
            token = response.get("ContinuationToken")
            if not token:
                return names


async def presigned_url(
    client: Any,
    uri: str,
    method: str,
    bucket: str,
    key: str,
    expires_in: int,
    params: Mapping[str, Any] = {},
) -> str:
    """A presigned ``GET`` (``GetObject``) or ``PUT`` (``PutObject``) URL; nothing is sent."""
    operation = {"GET": "GetObject", "PUT": "PutObject"}[method]
    arguments = {"Bucket": bucket, "Key": key}
    with s3_errors(uri):
        arguments.update(_accepted(client, operation, params, "Bucket", "Key"))
        url: str = await client.generate_presigned_url(
            "get_object" if method == "GET" else "put_object",
            Params=arguments,
            ExpiresIn=expires_in,
        )
        return url


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One version of an object (or a delete marker) from ``ListObjectVersions``."""

    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    size: int
    last_modified: datetime | None


async def list_versions_page(
    client: Any,
    uri: str,
    bucket: str,
    prefix: str,
    *,
    key_marker: str | None = None,
    version_marker: str | None = None,
    params: Mapping[str, Any] = {},
) -> tuple[list[VersionEntry], tuple[str, str] | None]:
    """One ``ListObjectVersions`` page: versions and delete markers in key order, and the
    ``(key marker, version marker)`` of the next page (``None`` on the last)."""
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if key_marker:
        arguments["KeyMarker"] = key_marker
    if version_marker:
        arguments["VersionIdMarker"] = version_marker
    with s3_errors(uri):
        arguments.update(_accepted(client, "ListObjectVersions", params, *arguments))
        response = await client.list_object_versions(**arguments)
    entries = [
        VersionEntry(
            v["Key"],
            v["VersionId"],
            v.get("IsLatest", False),
            False,
            v.get("Size", 0),
            v.get("LastModified"),
        )
        for v in response.get("Versions", ())
    ] + [
        VersionEntry(
            m["Key"], m["VersionId"], m.get("IsLatest", False), True, 0, m.get("LastModified")
        )
        for m in response.get("DeleteMarkers", ())
    ]
    # S3's order: by key, and newest first within a key (delete markers merged in).
    entries.sort(key=lambda e: e.last_modified or _EPOCH, reverse=True)
    entries.sort(key=lambda e: e.key)
    following = None
    if response.get("IsTruncated"):
        following = (response.get("NextKeyMarker", ""), response.get("NextVersionIdMarker", ""))
    return entries, following


# -- copies and multipart uploads -------------------------------------------------------------

#: Arguments that describe an object's content: a copy keeps the source's, never the target
#: prefix's registered ones (they are for new writes).
CONTENT_ARGUMENTS = frozenset(
    {
        "Metadata",
        "MetadataDirective",
        "ContentType",
        "ContentEncoding",
        "ContentLanguage",
        "ContentDisposition",
        "CacheControl",
        "Expires",
        "TaggingDirective",
    }
)


async def copy_object(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    source_bucket: str,
    source_key: str,
    params: Mapping[str, Any] = {},
    *,
    source_etag: str | None = None,
    source_version_id: str | None = None,
) -> dict[str, Any]:
    """Server-side ``CopyObject`` (objects up to 5 GiB), keeping the source's metadata.

    The target's registered parameters that concern storage (encryption, storage class, ACL…)
    apply; those that describe content are left out so the copy keeps the source's. With
    ``source_version_id`` that version of the source is copied (else its latest).
    """
    arguments: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "CopySource": _copy_source(source_bucket, source_key, source_version_id),
        "MetadataDirective": "COPY",
    }
    if source_etag:
        arguments["CopySourceIfMatch"] = source_etag
    with s3_errors(uri):
        extra = _accepted(client, "CopyObject", params, *arguments, *CONTENT_ARGUMENTS)
        if "Tagging" in extra:  # registered tags replace the source's, as on every other write
            arguments["TaggingDirective"] = "REPLACE"
        lean: LeanClient | None = getattr(client, "lean", None)
        if lean is not None:
            wire = {k: v for k, v in arguments.items() if k not in _COPY_ADDRESS}
            with contextlib.suppress(Unsupported):
                return await lean.copy_object(
                    bucket, key, source_bucket, source_key, {**wire, **extra}, source_version_id
                )
        response: dict[str, Any] = await client.copy_object(**arguments, **extra)
        return response


_COPY_ADDRESS = frozenset({"Bucket", "Key", "CopySource"})


async def get_object_tagging(
    client: Any, uri: str, bucket: str, key: str, params: Mapping[str, Any] = {}
) -> list[tuple[str, str]]:
    """``GetObjectTagging``: the object's tags as ``(key, value)`` pairs, in S3's order."""
    with s3_errors(uri):
        extra = _accepted(client, "GetObjectTagging", params, "Bucket", "Key")
        response = await client.get_object_tagging(Bucket=bucket, Key=key, **extra)
    return [(tag["Key"], tag["Value"]) for tag in response.get("TagSet", ())]


def _copy_source(bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    source = {"Bucket": bucket, "Key": key}
    if version_id:
        source["VersionId"] = version_id
    return source


@contextlib.contextmanager
def _buffer_of(body: Any) -> Iterator[memoryview]:
    """The bytes of a request body (``bytes``-like, or a ``BytesIO`` from its position)."""
    if isinstance(body, io.BytesIO):
        with body.getbuffer() as whole, whole[body.tell() :] as view:
            yield view
    else:
        with memoryview(body) as view:
            yield view


#: Request bodies larger than this go to aiohttp as a ``BytesIO``: it sends those in chunks,
#: yielding to the event loop, where a large ``bytes`` body is written in one piece.
LARGE_BODY = 1024 * 1024

_PART_CHECKSUMS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256")


def _request_body(data: Any) -> Any:
    if isinstance(data, (bytes, bytearray)) and len(data) > LARGE_BODY:
        return io.BytesIO(data)
    return data


def _checksums_parts(client: Any) -> bool:
    setting = getattr(client.meta.config, "request_checksum_calculation", None)
    return setting in (None, "when_supported")


def _part(part_number: int, result: Mapping[str, Any]) -> dict[str, Any]:
    """A part for ``CompleteMultipartUpload``: number, ETag and the checksum S3 reported."""
    part: dict[str, Any] = {"PartNumber": part_number, "ETag": result["ETag"]}
    part.update({name: result[name] for name in _PART_CHECKSUMS if result.get(name)})
    return part


async def create_multipart_upload(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    params: Mapping[str, Any] = {},
    **arguments: Any,
) -> str:
    """``CreateMultipartUpload`` with the registered parameters; returns the upload id.

    Where botocore checksums requests (its default), the upload declares CRC32 so that the
    parts' checksums, which botocore adds to each ``UploadPart``, are accepted at completion.
    """
    if "ChecksumAlgorithm" not in arguments and _checksums_parts(client):
        arguments["ChecksumAlgorithm"] = "CRC32"
    with s3_errors(uri):
        extra = _accepted(client, "CreateMultipartUpload", params, "Bucket", "Key", *arguments)
        response = await client.create_multipart_upload(
            Bucket=bucket, Key=key, **extra, **arguments
        )
        upload_id: str = response["UploadId"]
        return upload_id


async def upload_part(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    upload_id: str,
    part_number: int,
    body: bytes,
    params: Mapping[str, Any] = {},
) -> dict[str, Any]:
    """``UploadPart``; returns the part's ``{"PartNumber", "ETag"}`` for completion."""
    with s3_errors(uri):
        extra = _accepted(
            client, "UploadPart", params, "Bucket", "Key", "UploadId", "PartNumber", "Body"
        )
        lean: LeanClient | None = getattr(client, "lean", None)
        # The lean path sends CRC32, which the upload declared only where botocore checksums.
        if lean is not None and _checksums_parts(client):
            try:
                with _buffer_of(body) as view:
                    sent = await lean.upload_part(bucket, key, upload_id, part_number, view, extra)
            except Unsupported:
                pass
            else:
                return _part(part_number, sent)
        response = await client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=part_number,
            Body=_request_body(body),
            **extra,
        )
    return _part(part_number, response)


async def upload_part_copy(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    upload_id: str,
    part_number: int,
    source_bucket: str,
    source_key: str,
    byte_range: tuple[int, int],
    *,
    source_etag: str | None = None,
    source_version_id: str | None = None,
) -> dict[str, Any]:
    """``UploadPartCopy`` of bytes ``start..end`` (inclusive) of the source object (of its
    version ``source_version_id``, if given)."""
    arguments: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "UploadId": upload_id,
        "PartNumber": part_number,
        "CopySource": _copy_source(source_bucket, source_key, source_version_id),
        "CopySourceRange": f"bytes={byte_range[0]}-{byte_range[1]}",
    }
    if source_etag:
        arguments["CopySourceIfMatch"] = source_etag
    with s3_errors(uri):
        response = await client.upload_part_copy(**arguments)
    return _part(part_number, response["CopyPartResult"])


async def complete_multipart_upload(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    upload_id: str,
    parts: Sequence[Mapping[str, Any]],
    **arguments: Any,
) -> dict[str, Any]:
    """``CompleteMultipartUpload`` with ``parts`` (sorted by part number here)."""
    ordered = sorted(parts, key=lambda p: int(p["PartNumber"]))
    with s3_errors(uri):
        response: dict[str, Any] = await client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": list(ordered)},
            **arguments,
        )
        return response


async def abort_multipart_upload(
    client: Any, uri: str, bucket: str, key: str, upload_id: str
) -> None:
    """``AbortMultipartUpload``: the parts uploaded so far are discarded.

    The lean path sends it where it can: it is also what runs as a loop shuts down (writers
    left open), when botocore's request machinery would start async generators too late.
    """
    with s3_errors(uri):
        lean: LeanClient | None = getattr(client, "lean", None)
        if lean is not None:
            with contextlib.suppress(Unsupported):
                await lean.abort_multipart_upload(bucket, key, upload_id)
                return
        await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# -- streaming reads ----------------------------------------------------------------------------

#: What botocore (or the lean path) raises when a response body breaks off after its head.
_STREAM_ERRORS = (
    ResponseStreamingError,
    ReadTimeoutError,
    IncompleteReadError,
    HttpConnectionError,
    aiohttp.ClientPayloadError,  # aiobotocore lets aiohttp's body errors through
    aiohttp.ClientConnectionError,
)

#: Bytes asked of a botocore body per read when the reader wants fewer.
_BOTOCORE_READ = 256 * 1024


class ObjectStreamError(S3Error):
    """The connection broke while an object's body was arriving (the read may be retried)."""


#: What a whole-body GET raises when the connection fails (after the client's own retries).
BODY_FAILURES = (HTTPClientError, BotocoreConnectionError, ObjectStreamError, *_STREAM_ERRORS)


class ObjectStreamInterrupted(ObjectStreamError):
    """The stream's connection went to another request while nobody read it (not a failure)."""


class ObjectBody:
    """The body of one ``GetObject`` response, read as it arrives.

    ``response`` is the response without its body (``ContentLength``, ``ContentRange``,
    ``ETag``, ``Metadata``…). The body comes from the lean path's :class:`BodyStream` or from
    botocore's streaming body; either way :meth:`peek` shows the next bytes where they lie
    and :meth:`consume` moves past them, so a reader copies each byte once.
    """

    __slots__ = ("_body", "_offset", "_pending", "response", "uri")

    def __init__(self, uri: str, response: Mapping[str, Any], body: Any) -> None:
        self.uri = uri
        self.response = response
        self._body = body
        self._pending: bytes = b""  # what botocore's body gave and was not consumed yet
        self._offset = 0

    @property
    def content_length(self) -> int:
        """The number of bytes this response carries."""
        return int(self.response.get("ContentLength", 0))

    @property
    def total_size(self) -> int:
        """The size of the whole object (from ``Content-Range`` for a ranged response)."""
        content_range = self.response.get("ContentRange")
        if content_range and "/" in content_range:
            total = content_range.rsplit("/", 1)[1]
            if total.isdigit():
                return int(total)
        return self.content_length

    @property
    def etag(self) -> str | None:
        """The object's ETag."""
        etag: str | None = self.response.get("ETag")
        return etag

    @property
    def first_byte(self) -> int:
        """The offset in the object of the body's first byte (from ``Content-Range``)."""
        content_range = self.response.get("ContentRange")
        if content_range:
            first = content_range.removeprefix("bytes ").split("-", 1)[0]
            if first.isdigit():
                return int(first)
        return 0

    async def peek(self, want: int) -> tuple[bytes | bytearray, int, int]:
        """The next bytes as ``(buffer, start, end)`` (``start == end`` at the body's end).

        At least ``want`` bytes where they arrive in one piece; valid until :meth:`consume`.
        """
        try:
            if isinstance(self._body, BodyStream):
                return await self._body.peek(want)
            if self._offset >= len(self._pending):
                self._pending = await self._body.read(max(want, _BOTOCORE_READ))
                self._offset = 0
        except StreamPreemptedError as error:
            raise ObjectStreamInterrupted(f"{self.uri}: {error}") from error
        except _STREAM_ERRORS as error:
            raise ObjectStreamError(
                f"{self.uri}: the connection broke while receiving the object ({error})"
            ) from error
        return self._pending, self._offset, len(self._pending)

    def consume(self, count: int) -> None:
        """Move past the first ``count`` bytes shown by :meth:`peek`."""
        if isinstance(self._body, BodyStream):
            self._body.consume(count)
        else:
            self._offset += count

    async def read(self, size: int) -> bytes:
        """At most ``size`` bytes of the body (``b""`` at its end; ``size`` must be positive)."""
        if size <= 0:
            raise ValueError(f"read size must be positive, not {size}")
        buffer, start, end = await self.peek(size)
        end = min(end, start + size)
        if type(buffer) is bytes and start == 0 and end == len(buffer):
            chunk = buffer
        else:
            with memoryview(buffer) as view:
                chunk = bytes(view[start:end])
        self.consume(len(chunk))
        return chunk

    def close(self) -> None:
        """Let go of the response (its connection too, if the body was not read to its end)."""
        self._pending = b""
        self._body.close()


async def start_object(
    client: Any,
    uri: str,
    bucket: str,
    key: str,
    params: Mapping[str, Any] = {},
    *,
    byte_range: tuple[int, int] | None = None,
    if_match: str | None = None,
) -> ObjectBody:
    """``GetObject`` whose body is read as it arrives; close the returned body when done.

    ``byte_range`` is ``(first, last)`` inclusive; ``if_match`` an ETag the object must still
    have (a changed object fails with ``PreconditionFailed``). The lean path serves it where
    it can; its streams are not checksummed (a read may stop or resume anywhere), like
    ranged GETs.
    """
    with s3_errors(uri):
        extra = _accepted(client, "GetObject", params, "Bucket", "Key", "Range", "IfMatch")
        if if_match:
            extra["IfMatch"] = if_match
        lean: LeanClient | None = getattr(client, "lean", None)
        if lean is not None:
            with contextlib.suppress(Unsupported):
                shaped, stream = await lean.open_object(bucket, key, extra, byte_range)
                return ObjectBody(uri, shaped, stream)
        if byte_range is not None:
            extra["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await client.get_object(Bucket=bucket, Key=key, **extra)
    body = response.pop("Body")
    return ObjectBody(uri, response, body)
