"""S3 errors as Python exceptions that stay catchable as botocore's ``ClientError``.

Every error raised for an S3 response is an instance of both the fitting built-in exception
(``FileNotFoundError``, ``PermissionError``, …) and :class:`botocore.exceptions.ClientError`, so
``except FileNotFoundError`` in new code and ``except ClientError`` in code written for s3path
both work. Messages always name the ``s3://`` path.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class S3Error(OSError, ClientError):
    """An S3 request failed. Base class of every S3 error this library raises.

    ``response`` and ``operation_name`` are botocore's (``ClientError`` attributes); ``code`` is
    the S3 error code (``"NoSuchKey"``, ``"AccessDenied"``, …).
    """

    default_errno = errno.EIO

    def __init__(
        self,
        message: str,
        response: Mapping[str, Any] | None = None,
        operation_name: str = "",
    ) -> None:
        response = dict(response or {"Error": {"Code": "", "Message": message}})
        ClientError.__init__(self, response, operation_name)  # type: ignore[arg-type]
        OSError.__init__(self, self.default_errno, message)

    @property
    def code(self) -> str:
        """The S3 error code of the response (``""`` when there was none)."""
        return str(self.response.get("Error", {}).get("Code", ""))

    def __str__(self) -> str:
        return str(self.strerror)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.strerror, self.response, self.operation_name))


class S3FileNotFoundError(S3Error, FileNotFoundError):
    """The object, prefix, bucket or version does not exist."""

    default_errno = errno.ENOENT


class S3PermissionError(S3Error, PermissionError):
    """S3 denied the request (403)."""

    default_errno = errno.EACCES


class S3FileExistsError(S3Error, FileExistsError):
    """The target exists where it must not (a bucket name taken, a conditional write refused)."""

    default_errno = errno.EEXIST


class S3DirectoryNotEmptyError(S3Error):
    """A bucket could not be removed because objects or versions remain in it."""

    default_errno = errno.ENOTEMPTY


class S3ValueError(S3Error, ValueError):
    """S3 rejected a name or an argument (an invalid bucket name, a bad range)."""

    default_errno = errno.EINVAL


_BY_CODE: dict[str, type[S3Error]] = {
    "404": S3FileNotFoundError,
    "NotFound": S3FileNotFoundError,
    "NoSuchKey": S3FileNotFoundError,
    "NoSuchBucket": S3FileNotFoundError,
    "NoSuchVersion": S3FileNotFoundError,
    "NoSuchUpload": S3FileNotFoundError,
    "403": S3PermissionError,
    "AccessDenied": S3PermissionError,
    "AllAccessDisabled": S3PermissionError,
    "AccountProblem": S3PermissionError,
    "InvalidAccessKeyId": S3PermissionError,
    "SignatureDoesNotMatch": S3PermissionError,
    "BucketAlreadyExists": S3FileExistsError,
    "BucketAlreadyOwnedByYou": S3FileExistsError,
    "PreconditionFailed": S3FileExistsError,
    "412": S3FileExistsError,
    "BucketNotEmpty": S3DirectoryNotEmptyError,
    "InvalidBucketName": S3ValueError,
    "InvalidArgument": S3ValueError,
    "KeyTooLongError": S3ValueError,
    "InvalidRange": S3ValueError,
    # GET or HEAD of a version that is a delete marker: there is no content at that version.
    "MethodNotAllowed": S3FileNotFoundError,
    "405": S3FileNotFoundError,
}

_WHAT: dict[str, str] = {
    "NoSuchBucket": "bucket does not exist",
    "NoSuchKey": "no such object",
    "NoSuchVersion": "no such version",
    "NoSuchUpload": "no such multipart upload",
    "AccessDenied": "access denied",
    "403": "access denied",
    "404": "not found",
    "NotFound": "not found",
    "BucketAlreadyExists": "bucket name is already taken",
    "BucketAlreadyOwnedByYou": "bucket already exists",
    "BucketNotEmpty": "bucket is not empty",
    "InvalidBucketName": "invalid bucket name",
    "PreconditionFailed": "object already exists",
    "MethodNotAllowed": "this version is a delete marker",
    "405": "this version is a delete marker",
}


#: The error codes of a request for an object that is not there (in a bucket that is).
NO_OBJECT_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def error_from_client_error(error: ClientError, uri: str) -> S3Error:
    """The library's exception for a botocore ``ClientError`` about ``uri``."""
    if isinstance(error, S3Error):
        return error
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    cls = _BY_CODE.get(code)
    if cls is None and status is not None:
        cls = _BY_CODE.get(str(status))
    cls = cls or S3Error
    what = _WHAT.get(code) or details.get("Message") or code or "request failed"
    message = f"{uri}: {what} ({error.operation_name}: {code or status})"
    return cls(message, error.response, error.operation_name)


def make_error(cls: type[S3Error], uri: str, what: str, operation: str = "") -> S3Error:
    """An S3 error raised by the library itself, shaped like a response (for ``ClientError``)."""
    code = {
        S3FileNotFoundError: "NoSuchKey",
        S3PermissionError: "AccessDenied",
        S3FileExistsError: "FileExists",
    }.get(cls, "")
    response = {"Error": {"Code": code, "Message": what}}
    return cls(f"{uri}: {what}", response, operation)


class s3_errors:  # used like a function: ``with s3_errors(uri):``
    """Translate botocore ``ClientError`` raised inside the block for the path ``uri``.

    A class rather than a generator-based context manager: it wraps every request.
    """

    __slots__ = ("uri",)

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, ClientError) and not isinstance(error, S3Error):
            raise error_from_client_error(error, self.uri) from error
        if isinstance(error, BotoCoreError) and hasattr(error, "add_note"):
            # A connection or timeout error keeps its type (code catches it by that); the
            # path it happened on is added as a note, shown with the traceback (3.11+).
            note = f"while accessing {self.uri}"
            if note not in getattr(error, "__notes__", ()):
                error.add_note(note)


class S3ObjectChangedError(S3Error):
    """The object was overwritten while it was read or copied (its ETag no longer matches)."""


@contextlib.contextmanager
def pinned_to(uri: str, etag: str | None, doing: str = "read") -> Iterator[None]:
    """Around requests for the object ``uri`` conditional on its ETag (``If-Match``,
    ``CopySourceIfMatch``): a failed match raises :class:`S3ObjectChangedError` (the object
    changed while it was being ``doing``) instead of the ``FileExistsError`` 412 maps to."""
    try:
        yield
    except S3FileExistsError as error:  # 412 PreconditionFailed
        if etag and error.code == "PreconditionFailed":
            raise S3ObjectChangedError(
                f"{uri}: the object changed while it was being {doing}",
                error.response,
                error.operation_name,
            ) from error
        raise
