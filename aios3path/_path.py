"""``AsyncS3Path``: pathlib's concrete-path API for S3, with awaitable methods."""

from __future__ import annotations

import functools
import io
import os
import pathlib
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any, NamedTuple, TypeGuard, TypeVar, cast, overload

import aiofiles.os

from . import _file, _s3, _transfer
from ._concurrency import map_bounded
from ._config import configuration_map
from ._copy import copy_object
from ._errors import (
    NO_OBJECT_CODES,
    S3Error,
    S3FileExistsError,
    S3FileNotFoundError,
    make_error,
)
from ._globbing import folded_bases, glob_relative, plan_glob
from ._listing import iter_children, iter_pages
from ._pool import get_client
from ._pure import PureS3Path, PureVersionedS3Path, pattern_string
from ._stat import StatResult
from ._target import Target
from ._tree import (
    DELETE_BATCH,
    delete_moved_keys,
    delete_moved_object,
    delete_prefix,
    raise_transfer_failures,
    transfer_prefix,
)
from ._unsupported import NoLocalFilesystemMixin

_P = TypeVar("_P", bound="AsyncS3Path")

#: The content type some stores report for a "directory" that has no object of its own.
_IMPLICIT_DIRECTORY = "application/x-directory"

#: S3 refuses presigned URLs that live longer than 7 days.
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600

#: What S3 and S3-compatible stores accept as a bucket name: AWS's rules for new buckets are
#: stricter (3-63 lowercase characters), but legacy and MinIO-style names with capitals or
#: underscores exist, so only what no store accepts is refused before a request is sent.
_BUCKET_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-_]|\.(?!\.)){0,253}[a-zA-Z0-9]?")


@functools.lru_cache(maxsize=1024)
def _valid_bucket_name(name: str) -> bool:
    return _BUCKET_NAME.fullmatch(name) is not None


class S3OwnerNotFoundError(S3FileNotFoundError, KeyError):
    """``owner()`` of a path that is not an object (a ``KeyError`` too, as in s3path)."""

    def __str__(self) -> str:
        return str(self.strerror)


class WalkError(NamedTuple):
    """An error met by a walk, passed through a page for the sync API to hand to on_error."""

    error: OSError


class AsyncS3Path(NoLocalFilesystemMixin):
    """An S3 object or prefix with pathlib's methods, awaitable.

    ``await path.read_text()``, ``await path.exists()``, ``async for child in path.iterdir()``.
    Paths hold no client or connection: each call resolves the configuration registered for the
    path and uses the client pool of the running event loop, so paths can be shared between
    tasks, pickled and sent to other processes.
    """

    __slots__ = ()

    # -- plumbing -------------------------------------------------------------------------

    @property
    def _uri(self) -> str:
        return "s3:/" + str(self) if self._root else str(self)

    def _require_absolute(self) -> None:
        if not self._root:
            raise ValueError(f"relative path have no bucket, key specification: {str(self)!r}")

    def _require_bucket(self) -> str:
        self._require_absolute()
        bucket = self.bucket
        if not bucket:
            raise ValueError(f"{self._uri} names no bucket")
        if not _valid_bucket_name(bucket):
            raise ValueError(f"invalid bucket name {bucket!r} in {self._uri}")
        return bucket

    def _require_key(self) -> str:
        self._require_bucket()
        key = self.key
        if not key:
            raise ValueError(f"{self._uri} names a bucket, not an object")
        return key

    async def _request(self) -> Target:
        bucket = self._require_bucket()
        resolved = configuration_map.resolve(self)
        client = await get_client(resolved.settings)
        if not resolved.lean_requests:
            client = client.without_lean()
        return Target(client, resolved, bucket, self.key, self._uri)

    def _listing_type(self: _P) -> type[_P]:
        """The class of the paths listings below this one yield (plain for versioned paths)."""
        return cast("type[_P]", type(self)._listing_class())

    def _listing_maker(self: _P) -> Callable[[str, str], _P]:
        """What makes the paths of listed keys, ``make(bucket, key)``: the listing class's
        ``_from_listing``, or this path's ``with_segments`` where a subclass overrides it (as
        pathlib builds every path a method returns, so that state such as a session goes on)."""
        cls = self._listing_type()
        if cls._built_by_with_segments and type(self) is cls:
            return lambda bucket, key: self.with_segments(PureS3Path._from_listing(bucket, key))
        return cls._from_listing

    def _coerce_path(self: _P, other: str | os.PathLike[str] | PureS3Path) -> _P:
        """``other`` as a path of this API (a plain one: a target never names a version)."""
        cls = self._listing_type()
        if isinstance(other, cls) and not cls._built_by_with_segments:
            return other
        if isinstance(other, PureS3Path):
            exact = PureS3Path._from_parsed(other._root, other._parts, other._trailing)
        else:
            exact = PureS3Path(other)
        if cls._built_by_with_segments and type(self) is cls:
            return self.with_segments(exact)
        return cls._from_parsed(exact._root, exact._parts, exact._trailing)

    # -- metadata -------------------------------------------------------------------------

    async def stat(self, *, follow_symlinks: bool = True) -> StatResult | None:
        """The object's :class:`StatResult` (one ``HeadObject``); ``None`` for ``/`` and buckets.

        A missing object raises ``FileNotFoundError`` (also a botocore ``ClientError``).
        """
        self._require_absolute()
        if not self.key:
            return None
        self._require_key()
        request = await self._request()
        head = await _s3.head_object(
            request.client, request.uri, request.bucket, request.key, request.params
        )
        return StatResult.from_head(head)

    async def exists(self, *, follow_symlinks: bool = True) -> bool:
        """True if an object or a "directory" (any key below ``path/``) exists at this path.

        ``/`` always exists; a bucket path asks ``HeadBucket``; a key asks ``HeadObject`` and,
        only if that finds nothing, one ``ListObjectsV2`` with ``MaxKeys=1``. A key in a missing
        bucket raises ``FileNotFoundError`` (a ``ClientError`` too, as in s3path).
        """
        self._require_absolute()
        if not self._parts:
            return True
        request = await self._request()
        if not request.key:
            return await _s3.head_bucket(request.client, request.uri, request.bucket)
        if await self._head_or_none(request) is not None:
            return True
        return await self._has_children(request)

    async def _file_head(self, request: Target) -> dict[str, Any] | None:
        """The ``HeadObject`` of the object at this key when the key names a file; ``None``
        for a key ending in ``/``, which names the directory (never its marker alone)."""
        if request.key.endswith("/"):
            return None
        return await self._head_or_none(request)

    async def _head_or_none(self, request: Target) -> dict[str, Any] | None:
        """The object's ``HeadObject``, or ``None`` when there is no object at this key."""
        try:
            head = await _s3.head_object(
                request.client, request.uri, request.bucket, request.key, request.params
            )
        except (FileNotFoundError, PermissionError):
            # S3 answers 403 for a missing key to callers without s3:ListBucket.
            return None
        if (
            head.get("ContentType") == _IMPLICIT_DIRECTORY
            and not head.get("ContentLength")
            and not request.key.endswith("/")
        ):
            # Filer-backed stores (older SeaweedFS) answer HEAD of "a" when only "a/…" keys
            # exist with an empty "directory". An object with content is a file whatever its
            # content type says.
            return None
        return head

    async def _has_children(self, request: Target) -> bool:
        page = await _s3.list_page(
            request.client,
            request.uri,
            request.bucket,
            self._directory_prefix,
            max_keys=1,
            params=request.params,
        )
        return bool(page.objects or page.prefixes)

    async def _raise_if_directory(self, request: Target, error: S3FileNotFoundError) -> None:
        """After a read found no object here: ``IsADirectoryError`` if keys lie below instead
        (one ``ListObjectsV2``), as pathlib's reads of a directory raise."""
        if error.code not in NO_OBJECT_CODES or not self.key:
            return
        try:
            directory = await self._has_children(request)
        except OSError:
            return  # the caller's error says enough
        if directory:
            raise IsADirectoryError(f"{self._uri} is a directory, not an object") from error

    async def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        """True if some key lies below ``path/`` (one ``ListObjectsV2``, ``MaxKeys=1``).

        ``/`` and bucket paths are directories without a request, as in s3path.
        """
        self._require_absolute()
        if not self.key:
            return True
        self._require_key()
        return await self._has_children(await self._request())

    async def is_file(self, *, follow_symlinks: bool = True) -> bool:
        """True if an object exists at exactly this key (one ``HeadObject``)."""
        self._require_absolute()
        if not self.key:
            return False
        self._require_key()
        return await self._head_or_none(await self._request()) is not None

    async def is_mount(self) -> bool:
        """Always False: S3 has no mount points."""
        return False

    async def is_symlink(self) -> bool:
        """Always False: S3 has no symbolic links."""
        return False

    async def is_junction(self) -> bool:
        """Always False: S3 has no junctions."""
        return False

    async def is_socket(self) -> bool:
        """Always False: S3 has no sockets."""
        return False

    async def is_fifo(self) -> bool:
        """Always False: S3 has no FIFOs."""
        return False

    async def samefile(self, other_path: str | os.PathLike[str] | PureS3Path) -> bool:
        """True if ``other_path`` is this path and this path is an existing object.

        A local path (``pathlib.Path``) is never the same file as an S3 object.
        """
        if _is_local(other_path):
            return False
        other = self._coerce_path(other_path)
        return other == self and await self.is_file()

    async def owner(self, *, follow_symlinks: bool = True) -> str:
        """The display name (or canonical id) of the object's owner.

        A key that is not an object raises :class:`S3OwnerNotFoundError`, both a
        ``FileNotFoundError`` and a ``KeyError`` (what s3path raised); a bucket or ``/``
        (no key) raises ``ValueError``.
        """
        key = self._require_key()
        request = await self._request()
        page = await _s3.list_page(
            request.client,
            request.uri,
            request.bucket,
            key,
            max_keys=1,
            fetch_owner=True,
            params=request.params,
        )
        for entry in page.objects:
            if entry.key == key and entry.owner:
                return entry.owner
        raise make_error(S3OwnerNotFoundError, self._uri, "file not found", "ListObjectsV2")

    # -- directories ----------------------------------------------------------------------

    async def _iterdir_pages(self: _P) -> AsyncIterator[list[_P]]:
        """The children of this "directory", one list per listing page."""
        self._require_absolute()
        make = self._listing_maker()
        if not self._parts:
            request_client = await get_client(configuration_map.resolve(self).settings)
            names = await _s3.list_buckets(request_client, "s3://")
            yield [make(name, "") for name in names]
            return
        request = await self._request()
        prefix, bucket = self._directory_prefix, request.bucket
        pages = iter_pages(
            request.client, request.uri, bucket, prefix, delimiter="/", params=request.params
        )
        async for keys in iter_children(pages, prefix):
            yield [make(bucket, key) for key in keys]

    async def iterdir(self: _P) -> AsyncIterator[_P]:
        """The paths directly below this one, listed lazily one page at a time.

        Sub-"directories" (common prefixes) come first in each page, then objects; the marker
        object of the directory itself (``dir/``) is skipped, and a name that is both an object
        and a directory (``x`` and ``x/...``) comes once. ``/`` lists the buckets. A missing
        prefix yields nothing; a missing bucket raises ``FileNotFoundError``.
        """
        async for page in self._iterdir_pages():
            for child in page:
                yield child

    async def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Create a bucket, or a "directory" marker object.

        * A bucket path creates the bucket (in the client's region); ``FileExistsError`` if it
          exists, unless ``exist_ok``.
        * A key path creates the zero-byte marker object ``key/`` (as the S3 console does), so
          the directory is visible at once (``is_dir()`` is True). Its bucket must exist, or
          ``parents=True`` creates it too; intermediate prefixes need no objects of their own,
          since S3 prefixes exist implicitly. ``FileExistsError`` if the directory already has
          keys below it, unless ``exist_ok``, and if an object (a file) exists at the key, even
          with ``exist_ok`` (as pathlib does).
        * ``/`` cannot be created: ``FileNotFoundError`` unless ``exist_ok``.
        """
        self._require_absolute()
        if not self._parts:
            if exist_ok:
                return
            raise make_error(S3FileNotFoundError, self._uri, "no bucket in path", "CreateBucket")
        request = await self._request()
        bucket_exists = await _s3.head_bucket(request.client, request.uri, request.bucket)
        if not request.key:
            if bucket_exists:
                if exist_ok:
                    return
                raise FileExistsError(f"{self._uri}: bucket already exists")
            await self._create_bucket(request, exist_ok)
            return
        if not bucket_exists:
            if not parents:
                raise make_error(
                    S3FileNotFoundError,
                    self._uri,
                    f"bucket {request.bucket!r} does not exist (use parents=True to create it)",
                    "HeadBucket",
                )
            await self._create_bucket(request, exist_ok=True)
        elif await self._has_children(request):
            if exist_ok:
                return
            raise FileExistsError(f"{self._uri}: directory already exists")
        elif await self._file_head(request) is not None:
            raise FileExistsError(f"{self._uri}: an object (a file) exists at this key")
        await _s3.put_object(
            request.client,
            request.uri,
            request.bucket,
            self._directory_prefix,
            b"",
            request.params,
        )

    async def _create_bucket(self, request: Target, exist_ok: bool) -> None:
        try:
            await _s3.create_bucket(request.client, request.uri, request.bucket, request.params)
        except FileExistsError:
            if not exist_ok:
                raise

    async def rmdir(self) -> None:
        """Delete this "directory" and **everything below it**; a bucket path deletes the bucket.

        This differs from pathlib's ``rmdir`` (which needs an empty directory) and follows
        s3path's meaning. Only keys under ``path/`` are deleted, never look-alike siblings such
        as ``path2/``; deletes go 1,000 keys per ``DeleteObjects`` and keys S3 refuses to delete
        are raised (:class:`S3DeleteError`), named. ``NotADirectoryError`` for an object with
        nothing below it, ``FileNotFoundError`` when nothing exists.
        """
        self._require_absolute()
        if not self._parts:
            raise ValueError("s3:// (the root) cannot be removed")
        request = await self._request()
        if not request.key:
            if not await _s3.head_bucket(request.client, request.uri, request.bucket):
                raise make_error(
                    S3FileNotFoundError, self._uri, "bucket does not exist", "HeadBucket"
                )
            await delete_prefix(request.client, request.uri, request.bucket, "", request.params)
            await _s3.delete_bucket(request.client, request.uri, request.bucket)
            return
        deleted = await delete_prefix(
            request.client, request.uri, request.bucket, self._directory_prefix, request.params
        )
        if deleted:
            return
        if await self._head_or_none(request) is not None:
            raise NotADirectoryError(f"{self._uri}: is an object, not a directory")
        raise make_error(S3FileNotFoundError, self._uri, "no such directory", "ListObjectsV2")

    # -- versions and presigned URLs ------------------------------------------------------

    async def get_presigned_url(
        self, expire_in: timedelta | int = 3600, *, method: str = "GET"
    ) -> str:
        """A URL anyone can use to ``GET`` (or, with ``method="PUT"``, upload) this object.

        ``expire_in`` is seconds or a ``timedelta``: more than 0 and at most 7 days (S3's
        limit). The URL is signed locally with the path's credentials; nothing is sent. A
        versioned path's URL reads that version.

        The prefix's registered parameters (content type, encryption, storage class…) are not
        part of the URL: signed into it they would become headers every user of the URL has
        to send, and a plain upload would be refused (403). Uploads through the URL get the
        bucket's defaults.
        """
        seconds = int(expire_in.total_seconds()) if isinstance(expire_in, timedelta) else expire_in
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise TypeError(f"expire_in must be an int or a timedelta, not {expire_in!r}")
        if seconds <= 0:
            raise ValueError(
                "The expire_in argument can't represent a negative or null time delta. "
                f"You provided expire_in = {seconds} seconds which is below or equal to 0 seconds."
            )
        if seconds > _MAX_PRESIGN_SECONDS:
            raise ValueError(
                f"expire_in is {seconds} seconds; S3 accepts at most 7 days "
                f"({_MAX_PRESIGN_SECONDS} seconds)"
            )
        if method not in ("GET", "PUT"):
            raise ValueError(f"method must be 'GET' or 'PUT', not {method!r}")
        self._require_key()
        request = await self._request()
        return await _s3.presigned_url(
            request.client,
            request.uri,
            method,
            request.bucket,
            request.key,
            seconds,
            {"VersionId": request.params["VersionId"]} if "VersionId" in request.params else {},
        )

    async def _versions_pages(self) -> AsyncIterator[list[AsyncVersionedS3Path]]:
        """The versions of this key, one list per ``ListObjectVersions`` page."""
        key = self._require_key()
        request = await self._request()
        following: tuple[str, str] | None = ("", "")
        while following is not None:
            entries, following = await _s3.list_versions_page(
                request.client,
                request.uri,
                request.bucket,
                key,
                key_marker=following[0] or None,
                version_marker=following[1] or None,
                params=request.params,
            )
            yield [
                AsyncVersionedS3Path.from_bucket_key(request.bucket, key, version_id=e.version_id)
                for e in entries
                if e.key == key and not e.is_delete_marker
            ]

    async def iter_versions(self) -> AsyncIterator[AsyncVersionedS3Path]:
        """Every stored version of this object (delete markers left out), newest first.

        Each is an :class:`AsyncVersionedS3Path` whose reads return that version's content.
        """
        async for page in self._versions_pages():
            for version in page:
                yield version

    # -- trees: glob, walk, copy, move ----------------------------------------------------

    async def _glob_pages(
        self: _P,
        pattern: str | os.PathLike[str] | PureS3Path,
        *,
        case_sensitive: bool | None = None,
        recurse_symlinks: bool = False,
    ) -> AsyncIterator[list[_P]]:
        """The matches of ``pattern`` below this path, one list per listing page."""
        self._require_absolute()
        if not self._parts:
            raise ValueError("glob needs a bucket: s3:// (the root) lists buckets, use iterdir()")
        plan = plan_glob(self._directory_prefix, pattern, case_sensitive=case_sensitive)
        request = await self._request()
        make = self._listing_maker()
        bucket = request.bucket
        plans = [plan]
        if plan.folded_dirs:
            plans = [plan.rebased(base) for base in await folded_bases(request, plan)]
        for plan in plans:
            pages = iter_pages(
                request.client,
                request.uri,
                bucket,
                plan.list_prefix,
                delimiter=plan.delimiter,
                params=request.params,
            )
            base = plan.base
            async for relatives in glob_relative(plan, pages):
                yield [make(bucket, base + r if r else base[:-1]) for r in relatives]

    async def glob(
        self: _P,
        pattern: str | os.PathLike[str] | PureS3Path,
        *,
        case_sensitive: bool | None = None,
        recurse_symlinks: bool = False,
    ) -> AsyncIterator[_P]:
        """The paths below this one that match ``pattern``, with pathlib's pattern language.

        ``*``, ``?``, ``[seq]`` and ``[!seq]`` match within a segment, ``**`` (a whole segment)
        any number of segments, a trailing ``/`` only "directories"; ``case_sensitive=False``
        folds case. One listing chain is sent: the pattern's literal start (``logs/2024-`` for
        ``logs/2024-*``) is the ``Prefix``, a one-segment pattern lists with ``Delimiter="/"``,
        a deeper one flat. Matches stream out as pages arrive, each path once ("directories"
        implied by deeper keys included), in key order.
        """
        async for page in self._glob_pages(
            pattern, case_sensitive=case_sensitive, recurse_symlinks=recurse_symlinks
        ):
            for path in page:
                yield path

    async def _rglob_pages(
        self: _P,
        pattern: str | os.PathLike[str] | PureS3Path,
        *,
        case_sensitive: bool | None = None,
        recurse_symlinks: bool = False,
    ) -> AsyncIterator[list[_P]]:
        """The matches of ``**/pattern``, one list per listing page."""
        async for page in self._glob_pages(
            _recursive_pattern(pattern), case_sensitive=case_sensitive
        ):
            yield page

    async def rglob(
        self: _P,
        pattern: str | os.PathLike[str] | PureS3Path,
        *,
        case_sensitive: bool | None = None,
        recurse_symlinks: bool = False,
    ) -> AsyncIterator[_P]:
        """``glob("**/" + pattern)``: matches at any depth, from one flat listing."""
        async for page in self._rglob_pages(pattern, case_sensitive=case_sensitive):
            for path in page:
                yield path

    async def _scan(self) -> tuple[list[str], list[str], bool]:
        """``(directory names, file names, anything found)`` one level below this path."""
        request = await self._request()
        prefix = self._directory_prefix
        dirnames: list[str] = []
        filenames: list[str] = []
        found = False
        async for page in iter_pages(
            request.client,
            request.uri,
            request.bucket,
            prefix,
            delimiter="/",
            params=request.params,
        ):
            found = found or bool(page.objects or page.prefixes)
            dirnames.extend(p[len(prefix) : -1] for p in page.prefixes)
            filenames.extend(e.key[len(prefix) :] for e in page.objects if e.key != prefix)
        return dirnames, filenames, found

    async def _walk_pages(
        self: _P,
        top_down: bool = True,
        on_error: Callable[[OSError], object] | None = None,
        follow_symlinks: bool = False,
    ) -> AsyncIterator[list[tuple[_P, list[str], list[str]] | WalkError]]:
        """:meth:`walk`, one directory per page (so pruning ``dirnames`` works in sync code).

        Errors are not handed to ``on_error`` here (that would run it on the event loop's
        thread) but yielded in order as :class:`WalkError` items, for the caller to hand on.
        """
        errors: list[OSError] = []
        collect = errors.append if on_error is not None else None
        async for entry in self.walk(top_down, collect, follow_symlinks):
            page: list[tuple[_P, list[str], list[str]] | WalkError] = [WalkError(e) for e in errors]
            errors.clear()
            page.append(entry)
            yield page
        if errors:
            yield [WalkError(e) for e in errors]

    async def walk(
        self: _P,
        top_down: bool = True,
        on_error: Callable[[OSError], object] | None = None,
        follow_symlinks: bool = False,
    ) -> AsyncIterator[tuple[_P, list[str], list[str]]]:
        """pathlib's ``walk``: ``(dirpath, dirnames, filenames)`` for this "directory" and below.

        One ``Delimiter="/"`` listing per directory. Top-down (the default), editing
        ``dirnames`` in place prunes the walk; bottom-up yields children first. A missing top,
        a directory gone by the time the walk gets to it, or any listing error goes to
        ``on_error`` if given, else is ignored, as in pathlib.

        The names are strings, and ``dirpath / name`` parses a string as the constructor does:
        a key's own ``.``, ``..`` or empty segment (``d/.``, ``d/../x``) is not kept. Paths of
        such keys come exact from :meth:`iterdir`, :meth:`glob` and :meth:`rglob`.
        """
        self._require_bucket()
        stack: list[_P | tuple[_P, list[str], list[str]]] = [self]
        make = self._listing_maker()
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                yield item
                continue
            try:
                dirnames, filenames, found = await item._scan()
                if not found and item.key:
                    # Below the top, a directory gone since its parent was listed (or a name
                    # added to dirnames): pathlib reports it too.
                    top = item is self
                    if top and await self._head_or_none(await self._request()) is not None:
                        raise NotADirectoryError(f"{self._uri}: is an object, not a directory")
                    raise make_error(
                        S3FileNotFoundError, item._uri, "no such directory", "ListObjectsV2"
                    )
            except OSError as error:
                if on_error is not None:
                    on_error(error)
                continue
            if top_down:
                yield item, dirnames, filenames
            else:
                stack.append((item, dirnames, filenames))
            prefix = item._directory_prefix
            stack.extend(make(item.bucket, prefix + name) for name in reversed(dirnames))

    async def _transfer(
        self: _P,
        target: str | os.PathLike[str] | PureS3Path,
        *,
        delete_source: bool,
    ) -> _P:
        """Copy or move this object or "directory" to ``target`` (an S3 path)."""
        destination = self._coerce_path(target)
        source_key = self._require_key()
        destination._require_key()
        if destination.bucket == self.bucket and destination.key == source_key:
            # The same key (however the path was spelt): nothing to do, if it is there.
            if not await self.exists():
                raise make_error(
                    S3FileNotFoundError, self._uri, "no such object or directory", "HeadObject"
                )
            return destination
        source = await self._request()
        head = await self._file_head(source)
        dest = await destination._request()
        if head is not None:
            await copy_object(source, dest, head)
            if delete_source:
                await delete_moved_object(source, head.get("ETag"), dest.uri)
            return destination
        source_prefix, target_prefix = self._directory_prefix, destination._directory_prefix
        if source.bucket == dest.bucket and (
            target_prefix.startswith(source_prefix) or source_prefix.startswith(target_prefix)
        ):
            raise ValueError(f"cannot move or copy {self._uri} into itself ({destination._uri})")
        copied = await transfer_prefix(
            source.plain(), dest, source_prefix, target_prefix, delete_source=delete_source
        )
        if not copied:
            raise make_error(
                S3FileNotFoundError, self._uri, "no such object or directory", "ListObjectsV2"
            )
        return destination

    async def _to_local(self, target: os.PathLike[str], *, delete_source: bool) -> pathlib.Path:
        """Download this object, or every key below this "directory" as a tree of files (and
        directories for marker objects); for a move, delete each source after its download.

        The keys are all checked before anything is written: one whose name cannot be a local
        file (a ``//``, ``.`` or ``..`` segment, a file that is also a directory, a marker with
        content) raises ``ValueError`` and nothing moves. A failure part-way stops the downloads
        not yet started, leaves the keys not downloaded where they were (and no partial local
        file), and raises :class:`S3TransferError` saying what moved and what did not.
        """
        local = pathlib.Path(target)
        request = await self._request()
        head = await self._file_head(request)
        if head is not None:
            await self.download_to(local)
            if delete_source:
                await delete_moved_object(request, head.get("ETag"), str(local))
            return local
        prefix = self._directory_prefix
        entries = [
            entry
            async for page in iter_pages(
                request.client, request.uri, request.bucket, prefix, params=request.params
            )
            for entry in page.objects
        ]
        if not entries:
            raise make_error(
                S3FileNotFoundError, self._uri, "no such object or directory", "ListObjectsV2"
            )
        names = _local_names(self._uri, prefix, entries)
        etags = {entry.key: entry.etag for entry in entries}
        for entry in entries:
            if entry.key.endswith("/"):
                await aiofiles.os.makedirs(local.joinpath(*names[entry.key]), exist_ok=True)

        failed: dict[str, BaseException] = {}
        not_deleted: list[str] = []
        delete_errors: list[BaseException] = []
        downloaded: set[str] = set()
        moved = 0

        async def fetch(key: str) -> None:
            if failed:
                return  # the first failure stops the downloads not yet started
            destination = local.joinpath(*names[key])
            try:
                await aiofiles.os.makedirs(destination.parent, exist_ok=True)
                listed = self._listing_type()._from_listing(request.bucket, key)
                await listed.download_to(destination)
            except Exception as error:
                failed[key] = error
            else:
                downloaded.add(key)

        for first in range(0, len(entries), DELETE_BATCH):
            batch = [entry.key for entry in entries[first : first + DELETE_BATCH]]
            files = [key for key in batch if not key.endswith("/")]
            await map_bounded(fetch, files, request.transfer.max_concurrency)
            # Markers became directories before the downloads began.
            done = [key for key in batch if key.endswith("/") or key in downloaded]
            if not delete_source:
                moved += len(done)
            elif done:
                try:
                    failures = await delete_moved_keys(request, {key: etags[key] for key in done})
                except Exception as error:  # downloaded: the batch is in both places
                    delete_errors.append(error)
                    not_deleted.extend(done)
                else:
                    not_deleted.extend(f.key for f in failures)
                    moved += len(done) - len(failures)
            if failed or delete_errors:
                break
        raise_transfer_failures(
            request.uri,
            str(local),
            delete_source=delete_source,
            moved=moved,
            failed=failed,
            not_deleted=not_deleted,
            delete_errors=delete_errors,
        )
        return local

    @overload
    async def rename(self, target: pathlib.PurePath) -> pathlib.Path: ...

    @overload
    async def rename(self: _P, target: str | PureS3Path) -> _P: ...

    async def rename(self: _P, target: str | os.PathLike[str] | PureS3Path) -> _P | pathlib.Path:
        """Move this object, or every key of this "directory", to ``target``; return it.

        A ``str`` target is an S3 path (as in s3path). Objects are copied server-side
        (``CopyObject``, or multipart ``UploadPartCopy`` past ``multipart_copy_threshold``) or
        streamed when the target prefix is served by another endpoint, keeping content type and
        user metadata and applying the target's registered parameters; the source is deleted
        only after its copy succeeded. Directories stop exactly at ``path/`` (never moving
        look-alike siblings such as ``path2/``), copy with bounded concurrency and delete 1,000
        keys per ``DeleteObjects``. A failure part-way raises :class:`S3TransferError` saying
        what was and was not moved: no key is ever in neither place. Existing target keys are
        overwritten, as POSIX ``rename`` does.

        Another writer cannot lose data to a move: each copy reads the source only as it was
        when listed or checked (a source written again before its copy raises
        :class:`S3ObjectChangedError`), and each delete is conditional on that ETag (a source
        written again after its copy is kept, with the newer data, and the move raises
        :class:`S3TransferError` naming it). Stores that ignore these conditions (MinIO, moto's
        ``DeleteObjects``) delete as s3path does.

        A local ``pathlib.Path`` target downloads the object (or the directory's keys, as a
        tree of files) there and then deletes the source; the local path is returned. Keys
        that cannot be local file names (``//``, ``.`` or ``..`` segments, a name that is both
        a file and a directory, a marker object with content) raise ``ValueError`` before
        anything moves.
        """
        return await self._send_to(target, delete_source=True)

    @overload
    async def replace(self, target: pathlib.PurePath) -> pathlib.Path: ...

    @overload
    async def replace(self: _P, target: str | PureS3Path) -> _P: ...

    async def replace(self: _P, target: str | os.PathLike[str] | PureS3Path) -> _P | pathlib.Path:
        """The same as :meth:`rename` (S3 overwrites either way)."""
        return await self.rename(target)  # type: ignore[arg-type]

    @overload
    async def move(self, target: pathlib.PurePath) -> pathlib.Path: ...

    @overload
    async def move(self: _P, target: str | PureS3Path) -> _P: ...

    async def move(self: _P, target: str | os.PathLike[str] | PureS3Path) -> _P | pathlib.Path:
        """Python 3.14's ``move``: :meth:`rename`, returning the new path."""
        return await self.rename(target)  # type: ignore[arg-type]

    @overload
    async def move_into(self, target_dir: pathlib.PurePath) -> pathlib.Path: ...

    @overload
    async def move_into(self: _P, target_dir: str | PureS3Path) -> _P: ...

    async def move_into(
        self: _P, target_dir: str | os.PathLike[str] | PureS3Path
    ) -> _P | pathlib.Path:
        """Move this path into the "directory" ``target_dir``, keeping its name.

        A local ``pathlib.Path`` directory receives it as with :meth:`rename`.
        """
        return await self._send_to(self._child_in(target_dir), delete_source=True)

    @overload
    async def copy(self, target: pathlib.PurePath) -> pathlib.Path: ...

    @overload
    async def copy(self: _P, target: str | PureS3Path) -> _P: ...

    async def copy(self: _P, target: str | os.PathLike[str] | PureS3Path) -> _P | pathlib.Path:
        """Python 3.14's ``copy``: copy this object, or a whole "directory", to ``target``.

        The same machinery as :meth:`rename` without deleting the source; returns the target.
        A local ``pathlib.Path`` target downloads it there (a tree of files for a directory).
        """
        return await self._send_to(target, delete_source=False)

    @overload
    async def copy_into(self, target_dir: pathlib.PurePath) -> pathlib.Path: ...

    @overload
    async def copy_into(self: _P, target_dir: str | PureS3Path) -> _P: ...

    async def copy_into(
        self: _P, target_dir: str | os.PathLike[str] | PureS3Path
    ) -> _P | pathlib.Path:
        """Copy this path into the "directory" ``target_dir``, keeping its name.

        A local ``pathlib.Path`` directory receives it as with :meth:`copy`.
        """
        return await self._send_to(self._child_in(target_dir), delete_source=False)

    async def _send_to(
        self: _P, target: str | os.PathLike[str] | PureS3Path, *, delete_source: bool
    ) -> _P | pathlib.Path:
        """Copy or move to ``target``: a local path downloads there, an S3 path copies."""
        if _is_local(target):
            return await self._to_local(target, delete_source=delete_source)
        return await self._transfer(target, delete_source=delete_source)

    def _child_in(self: _P, target_dir: str | os.PathLike[str] | PureS3Path) -> _P | pathlib.Path:
        """This path's name inside the directory ``target_dir`` (local or S3)."""
        if _is_local(target_dir):
            return pathlib.Path(target_dir) / self.name
        return self._coerce_path(target_dir) / self.name

    # -- whole-object reads and writes ----------------------------------------------------

    async def read_bytes(self) -> bytes:
        """The object's content (``FileNotFoundError`` if there is no object at this key).

        One GET for an object up to ``multipart_threshold`` bytes; a bigger one comes in
        ranged parts of ``multipart_chunksize``, ``max_concurrency`` at once, each received
        straight into its place in the result (memory: the object's size, once).
        """
        self._require_key()
        request = await self._request()
        try:
            return await _transfer.read_object(request)
        except S3FileNotFoundError as error:
            await self._raise_if_directory(request, error)
            raise

    async def read_text(
        self, encoding: str | None = None, errors: str | None = None, newline: str | None = None
    ) -> str:
        """The object's content decoded (UTF-8 unless ``encoding`` says otherwise).

        ``newline`` follows :func:`open`: ``None`` turns ``\\r\\n`` and ``\\r`` into ``\\n``.
        """
        data = await self.read_bytes()
        with io.TextIOWrapper(
            io.BytesIO(data), encoding=encoding or "utf-8", errors=errors, newline=newline
        ) as text:
            return text.read()

    async def _write_request(
        self, content_type: str | None, metadata: Mapping[str, str] | None
    ) -> Target:
        """The target of a write, with this call's content type and metadata (if any)."""
        self._require_key()
        extra: dict[str, Any] = {}
        if content_type is not None:
            extra["ContentType"] = content_type
        if metadata is not None:
            extra["Metadata"] = {str(k): str(v) for k, v in metadata.items()}
        return (await self._request()).with_parameters(extra)

    async def write_bytes(
        self,
        data: bytes | bytearray | memoryview,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> int:
        """Replace the object's content with ``data``; returns the number of bytes written.

        The registered ``parameters`` (encryption, storage class, content type, metadata) are
        sent with the write; ``content_type`` and ``metadata`` (user metadata, read back as
        ``stat().metadata``) override them for this write. Past ``multipart_threshold`` the
        data goes as a multipart upload (parts of ``multipart_chunksize``,
        ``max_concurrency`` at once), aborted on failure.
        """
        return await _transfer.write_object(await self._write_request(content_type, metadata), data)

    async def write_text(
        self,
        data: str,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> int:
        """Replace the object's content with ``data`` encoded; returns the number of characters.

        UTF-8 unless ``encoding`` says otherwise; ``newline`` translates ``\\n`` as
        :func:`open` does; ``content_type`` and ``metadata`` as for :meth:`write_bytes`.
        """
        if not isinstance(data, str):
            raise TypeError(f"data must be str, not {type(data).__name__}")
        buffer = io.BytesIO()
        with io.TextIOWrapper(
            buffer, encoding=encoding or "utf-8", errors=errors, newline=newline, write_through=True
        ) as text:
            text.write(data)
            body = buffer.getvalue()
        await self.write_bytes(body, content_type=content_type, metadata=metadata)
        return len(data)

    # -- streams and transfers (open, upload_from, download_to) --

    @overload
    def open(
        self,
        mode: _file.BinaryReadMode,
        buffering: int = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> _file.FileOpener[_file.S3ObjectReader]: ...

    @overload
    def open(
        self,
        mode: _file.BinaryWriteMode,
        buffering: int = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> _file.FileOpener[_file.S3ObjectWriter]: ...

    @overload
    def open(
        self,
        mode: _file.TextReadMode = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> _file.FileOpener[_file.S3TextReader]: ...

    @overload
    def open(
        self,
        mode: _file.TextWriteMode,
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> _file.FileOpener[_file.S3TextWriter]: ...

    @overload
    def open(
        self,
        mode: str,
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> _file.FileOpener[Any]: ...

    def open(
        self,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> _file.FileOpener[Any]:
        """Open the object as an async file: ``async with path.open("rb") as f:``.

        ``f = await path.open(...)`` works too (then ``await f.close()``). Modes:

        * ``"r"``/``"rb"``: a seekable reader (:class:`~aios3path._file.S3ObjectReader`, or a
          text reader over it). Opening sends the ``GetObject`` (``FileNotFoundError`` for a
          missing object) and its body streams: sequential reads take it as it arrives (a
          broken connection resumes where it stopped), a ``seek`` fetches only the part
          (``multipart_chunksize`` bytes) it lands in, and nothing goes to a local file.
          With ``read_ahead=None``, a stream from a distant store slower than 192 MiB/s
          hands over to parallel ranged GETs of the parts after the current one;
          ``read_ahead`` >= 1 fetches that many parts ahead in parallel from the start.
          ``read``,
          ``read1``, ``readinto``, ``readline``, ``readlines``, ``async for line in f``,
          ``seek``, ``tell``. A concurrent overwrite raises
          :class:`~aios3path.S3ObjectChangedError` (every later GET carries
          ``If-Match``).
        * ``"w"``/``"wb"``: a writer (:class:`~aios3path._file.S3ObjectWriter`): ``write``,
          ``writelines``, ``flush``; parts are uploaded concurrently while writing and the
          object appears at close (one ``PutObject`` if it stays within
          ``multipart_threshold``). The registered parameters (content type, metadata,
          encryption, storage class…) apply. An exception or a cancellation inside
          ``async with`` aborts the upload: no object, no parts left behind.
        * ``"x"``/``"xb"``: as ``"w"``, but ``FileExistsError`` if the object exists (checked
          at open, and again atomically by the write: ``If-None-Match: *``).
        * ``"a"``/``"ab"``: append: the existing content is kept (small objects are read into
          the buffer, big ones copied server-side as the first parts) and the final write is
          conditional on the ETag seen at open, so a concurrent change fails the append.
        * ``"+"`` modes are refused (``ValueError``): S3 objects cannot be updated in place.

        Text modes decode/encode incrementally (UTF-8 unless ``encoding`` is given) with
        :func:`open`'s ``newline`` rules. ``buffering`` is accepted for compatibility; the part
        size decides the buffering.

        Memory: a reader holds one part and under 8 MiB of stream buffers (with
        parallel parts, at most ``(read_ahead + 1) x part size``, 5 parts when a slow stream
        handed over); a writer at most
        ``(max_concurrency + 1) x part size`` (plus ``multipart_threshold`` before its first
        part), whatever the object size.
        """
        self._require_key()
        return _file.open_async(
            self._request, mode, buffering, encoding, errors, newline, self._raise_if_directory
        )

    async def upload_from(
        self,
        local_path: str | os.PathLike[str],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> int:
        """Upload the local file ``local_path`` to this key; returns the number of bytes.

        Up to ``multipart_threshold`` one ``PutObject``, above it a multipart upload with parts
        read through :mod:`aiofiles` and sent ``max_concurrency`` at once (aborted on failure:
        no object, no parts). The registered ``callback_class`` is instantiated with the local
        path (a ``str``) and called with the bytes sent, adding up to the file size.
        ``content_type`` and ``metadata`` are as for :meth:`write_bytes`.
        """
        request = await self._write_request(content_type, metadata)
        return await _transfer.upload_file(request, local_path)

    async def download_to(self, local_path: str | os.PathLike[str]) -> int:
        """Download this object into the local file ``local_path``; returns the number of bytes.

        Ranged GETs of ``multipart_chunksize`` bytes, ``max_concurrency`` at once, pinned to
        the ETag seen first, are written through :mod:`aiofiles` into a temporary file next to
        ``local_path`` that replaces it only once complete: a failed download leaves no
        partial file and an existing target untouched. The registered ``callback_class`` is
        instantiated with this object as an ``S3Path`` and called with the bytes received.
        """
        self._require_key()
        request = await self._request()
        try:
            return await _transfer.download_file(request, local_path, self)
        except S3FileNotFoundError as error:
            await self._raise_if_directory(request, error)
            raise

    async def touch(self, mode: int = 0o666, exist_ok: bool = True) -> None:
        """Create an empty object if nothing exists at this path; what exists is left untouched.

        ``FileExistsError`` if an object or a "directory" exists here and ``exist_ok`` is False.
        The write is conditional (``If-None-Match: *``), so an object created meanwhile, or one
        this caller may not read, is never overwritten. (s3path overwrote an existing object
        with empty content; aios3path never loses data this way.)
        """
        self._require_key()
        request = await self._request()
        if not await self._object_or_directory_at(request):
            try:
                await _s3.put_object(
                    request.client,
                    request.uri,
                    request.bucket,
                    request.key,
                    b"",
                    {**request.params, "IfNoneMatch": "*"},
                )
                return
            except S3FileExistsError:
                pass  # 412: an object is there after all
        if not exist_ok:
            raise FileExistsError(f"{self._uri}: already exists")

    async def _object_or_directory_at(self, request: Target) -> bool:
        """Whether an object or keys below ``key/`` are visible to this caller (a denied
        listing counts as none: the conditional write that follows still protects objects)."""
        if await self._head_or_none(request) is not None:
            return True
        try:
            return await self._has_children(request)
        except PermissionError:
            return False

    async def unlink(self, missing_ok: bool = False) -> None:
        """Delete the object at this key.

        ``IsADirectoryError`` for a bucket or a "directory" with no object at its key,
        ``FileNotFoundError`` when nothing exists (both silenced by ``missing_ok``, as in s3path).
        """
        self._require_absolute()
        if not self.key:
            if missing_ok:
                return
            raise IsADirectoryError(f"{self._uri} is a bucket, not an object")
        self._require_key()
        request = await self._request()
        try:
            if await self._head_or_none(request) is None:
                if await self._has_children(request):
                    raise IsADirectoryError(f"{self._uri} is a directory, not an object")
                raise make_error(S3FileNotFoundError, self._uri, "no such object", "HeadObject")
        except (FileNotFoundError, IsADirectoryError):
            if missing_ok:
                return
            raise
        await _s3.delete_object(
            request.client, request.uri, request.bucket, request.key, request.params
        )


class AsyncVersionedS3Path(PureVersionedS3Path, AsyncS3Path):
    """One version of an object: ``AsyncVersionedS3Path("/b/k", version_id="...")``.

    ``stat``, ``exists``, ``is_file``, ``read_bytes``/``read_text``, ``open`` for reading and
    ``get_presigned_url`` address that exact version, and so do ``copy`` and ``download_to``.
    Writes and ``unlink`` act on the plain key, as in s3path: with versioning enabled,
    ``unlink`` adds a delete marker and never destroys a version (with versioning suspended,
    S3 removes the ``null`` version). ``rename`` copies this version and then deletes the plain
    key only while its current object has the same content: a different current object is
    kept (:class:`S3TransferError` names it). A versioned "directory" copies and moves the keys
    below it.
    Listings below a versioned path yield plain :class:`AsyncS3Path` objects.
    """

    __slots__ = ()

    _plain_class = AsyncS3Path

    async def _request(self) -> Target:
        request = await super()._request()
        return request.with_parameters({"VersionId": self.version_id})

    async def stat(self, *, follow_symlinks: bool = True) -> StatResult | None:
        """This version's :class:`StatResult` (its ``version_id`` set)."""
        self._require_key()
        request = await self._request()
        head = await _s3.head_object(
            request.client, request.uri, request.bucket, request.key, request.params
        )
        return StatResult.from_head(head, version_id=head.get("VersionId") or self.version_id)

    async def exists(self, *, follow_symlinks: bool = True) -> bool:
        """True if this version exists and is not a delete marker (one ``HeadObject``)."""
        self._require_key()
        try:
            return await self._head_or_none(await self._request()) is not None
        except ValueError:  # S3 rejects a malformed version id with InvalidArgument
            return False


__all__ = ["AsyncS3Path", "AsyncVersionedS3Path", "S3Error", "S3OwnerNotFoundError"]


def _recursive_pattern(pattern: str | os.PathLike[str] | PureS3Path) -> str:
    pattern = pattern_string(pattern)  # a path pattern stands for its string form (Python 3.13)
    if not pattern:
        return "**/"  # pathlib: rglob("") is glob("**/"), every directory
    if pattern.startswith("/"):
        raise NotImplementedError("Non-relative patterns are unsupported")
    return "**/" + pattern


def _local_names(uri: str, prefix: str, entries: list[Any]) -> dict[str, tuple[str, ...]]:
    """The local path segments of every listed key below ``prefix`` (markers: directories).

    ``ValueError`` (naming the key) for a key that cannot map to its own local file: an empty,
    ``.`` or ``..`` segment (``a//b``, ``./a``, ``../x``) would land on another key's file or
    outside the target, a name used both as a file and as a directory cannot be both, and a
    marker object with content cannot become a directory.
    """
    names: dict[str, tuple[str, ...]] = {}
    directories: set[tuple[str, ...]] = set()
    for entry in entries:
        relative = entry.key[len(prefix) :]
        marker = relative.endswith("/") or not relative
        segments = tuple(relative.rstrip("/").split("/")) if relative.rstrip("/") else ()
        bad = next((part for part in segments if part in ("", ".", "..")), None)
        if bad is not None:
            raise ValueError(
                f"{uri}: key {entry.key!r} has the segment {bad!r}, which no local file name"
                " can keep; nothing was moved"
            )
        if marker and entry.size:
            raise ValueError(
                f"{uri}: {entry.key!r} is a directory marker with {entry.size} bytes of content,"
                " which a local directory cannot keep; nothing was moved"
            )
        names[entry.key] = segments
        # A marker is a directory with its ancestors; a file makes only its ancestors ones.
        last = len(segments) if marker else len(segments) - 1
        directories.update(segments[:end] for end in range(1, last + 1))
    for key, segments in names.items():
        if segments and not key.endswith("/") and segments in directories:
            raise ValueError(
                f"{uri}: {key!r} is both a file and a directory below it, which a local file"
                " system cannot hold; nothing was moved"
            )
    return names


def _is_local(target: object) -> TypeGuard[os.PathLike[str]]:
    """True for a local path object (``pathlib.Path`` and friends); a ``str`` stays an S3 path."""
    return isinstance(target, os.PathLike) and not isinstance(target, PureS3Path)
