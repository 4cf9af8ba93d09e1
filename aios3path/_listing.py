"""``ListObjectsV2`` paging: lazy page-by-page iteration, flat or one level deep.

Pages are strictly sequential (each request needs the previous page's token), so the server's
time per page and the client's are only both paid if they follow each other. They overlap
here: as soon as a page has arrived, the request for the next one is sent (its token is found
in the raw body), and only then is the page parsed and handed to the caller. At most one page
is ahead of the caller.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any

from . import _s3
from ._errors import S3Error, make_error
from ._s3 import ListPage, PendingPage


async def iter_pages(
    client: Any,
    uri: str,
    bucket: str,
    prefix: str,
    *,
    delimiter: str | None = None,
    start_after: str | None = None,
    max_keys: int | None = None,
    params: Mapping[str, Any] = {},
) -> AsyncIterator[ListPage]:
    """Every ``ListObjectsV2`` page under ``prefix``, one page ahead of the caller at most."""

    def fetch(token: str | None) -> Awaitable[PendingPage]:
        return _s3.fetch_list_page(
            client,
            uri,
            bucket,
            prefix,
            delimiter=delimiter,
            token=token,
            start_after=start_after if token is None else None,
            max_keys=max_keys,
            params=params,
        )

    upcoming: asyncio.Future[PendingPage] | None = None
    seen: str | None = None
    try:
        pending = await fetch(None)
        while True:
            hint = pending.token_hint
            if hint is not None and hint == seen:
                raise make_error(S3Error, uri, "the server sent the same continuation token twice")
            seen = hint
            if hint is not None:
                upcoming = asyncio.ensure_future(fetch(hint))
                # Let it send its request before this page is parsed and used.
                await asyncio.sleep(0)
            page = pending.page()
            if page.next_token != hint:  # the hint misread the page: follow the parsed token
                if upcoming is not None:
                    await _discard(upcoming)
                upcoming = None
                seen = page.next_token
                if page.next_token is not None:
                    upcoming = asyncio.ensure_future(fetch(page.next_token))
            yield page
            if upcoming is None:
                return
            pending = await upcoming
            upcoming = None
    finally:
        if upcoming is not None:
            await _discard(upcoming)


async def iter_children(pages: AsyncIterator[ListPage], prefix: str) -> AsyncIterator[list[str]]:
    """The keys of the children listed in each ``Delimiter="/"`` page under ``prefix``.

    Per page, the directories (common prefixes, without their ``/``) come first, then the
    objects; the directory's own marker (``prefix``) is left out. A name that is both an object
    and a directory (``x`` and keys below ``x/``) is one child, given once: on the same page, or
    pages apart (``x`` < ``x-1`` < ``x/`` in key order), where the objects given since wait
    until the listing has passed their ``/``.
    """
    given: deque[str] = deque()  # objects given, in key order, whose directory may still come
    given_set: set[str] = set()
    async for page in pages:
        directories = [p[:-1] for p in page.prefixes]
        children = [d for d in directories if d not in given_set]
        listed = set(directories)
        objects = [e.key for e in page.objects if e.key != prefix and e.key not in listed]
        children.extend(objects)
        given.extend(objects)
        given_set.update(objects)
        last_object = page.objects[-1].key if page.objects else ""
        end = max(page.prefixes[-1] if page.prefixes else "", last_object)
        while given and given[0] + "/" <= end:
            given_set.discard(given.popleft())
        yield children


async def _discard(upcoming: asyncio.Future[PendingPage]) -> None:
    """Cancel a page fetch and wait for it to end; its outcome no longer matters.

    ``asyncio.wait`` rather than awaiting it: a cancellation of the caller itself must
    propagate, not be swallowed with the fetch's.
    """
    upcoming.cancel()
    await asyncio.wait({upcoming})
    if not upcoming.cancelled():
        upcoming.exception()  # retrieved: no "never retrieved" warning
