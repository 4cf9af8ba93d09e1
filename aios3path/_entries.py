"""What a listing page holds: :class:`ObjectEntry` per object and :class:`ListPage` per page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class ObjectEntry:
    """One object of a listing page (read-only by convention: not frozen, which makes
    building the thousand entries of a page three times cheaper)."""

    key: str
    size: int
    last_modified: datetime | None
    etag: str | None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class ListPage:
    """One ``ListObjectsV2`` page: objects, common prefixes and the token for the next page."""

    objects: Sequence[ObjectEntry]
    prefixes: Sequence[str]
    next_token: str | None
