"""``StatResult``: s3path's stat namedtuple, extended without breaking tuple unpacking."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

_EMPTY: Mapping[str, str] = MappingProxyType({})


class _BaseStatResult(NamedTuple):
    size: int
    last_modified: datetime
    version_id: str | None = None


class StatResult(_BaseStatResult):
    """The metadata of one object: ``size, last_modified, version_id = path.stat()``.

    As in s3path it is a 3-tuple with ``st_size``, ``st_mtime`` and ``st_version_id``; other
    ``os.stat_result`` fields raise ``io.UnsupportedOperation``. Beyond the tuple it carries
    ``etag``, ``content_type`` and ``metadata`` (the object's user metadata, ``x-amz-meta-*``).
    """

    etag: str | None
    content_type: str | None
    metadata: Mapping[str, str]

    def __new__(
        cls,
        size: int,
        last_modified: datetime,
        version_id: str | None = None,
        *,
        etag: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> StatResult:
        result = super().__new__(cls, size, last_modified, version_id)
        result.etag = etag
        result.content_type = content_type
        result.metadata = MappingProxyType(dict(metadata)) if metadata else _EMPTY
        return result

    @classmethod
    def from_head(cls, response: Mapping[str, Any], version_id: str | None = None) -> StatResult:
        """Build from a ``HeadObject``/``GetObject`` response."""
        return cls(
            response.get("ContentLength", 0),
            response["LastModified"],
            version_id,
            etag=response.get("ETag"),
            content_type=response.get("ContentType"),
            metadata=response.get("Metadata"),
        )

    @property
    def st_size(self) -> int:
        """The object's size in bytes."""
        return self.size

    @property
    def st_mtime(self) -> float:
        """The last modification time as a POSIX timestamp."""
        return self.last_modified.timestamp()

    @property
    def st_version_id(self) -> str | None:
        """The version id (``None`` for plain paths)."""
        return self.version_id

    def __getattr__(self, name: str) -> Any:
        if name.startswith("st_"):
            raise io.UnsupportedOperation(f"{type(self).__name__} do not support {name} attribute")
        raise AttributeError(name)

    def __repr__(self) -> str:
        return (
            f"StatResult(size={self.size!r}, last_modified={self.last_modified!r}, "
            f"version_id={self.version_id!r}, etag={self.etag!r}, "
            f"content_type={self.content_type!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_stat, (tuple(self), self.etag, self.content_type, dict(self.metadata)))


def _rebuild_stat(
    fields: tuple[Any, ...], etag: str | None, content_type: str | None, metadata: dict[str, str]
) -> StatResult:
    return StatResult(*fields, etag=etag, content_type=content_type, metadata=metadata)
