"""Glob over S3 listings: a pattern becomes one listing chain plus a matcher.

The longest literal part of the pattern, including the literal start of the first wildcard
segment, is sent as ``Prefix``; a pattern one segment deep lists with ``Delimiter="/"``; a deeper
one (or one with ``**``) makes one flat listing of the narrowed prefix. Folding case, the leading
literal segments are found one ``Delimiter="/"`` listing per level instead (``logs`` may be
``LOGS/`` or ``Logs/``), and only characters without case narrow a ``Prefix``. Listed keys arrive in
lexicographic order, so the "directories" implied by deeper keys are yielded once each while
remembering only the current chain of directories, never the whole listing.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, replace

from ._glob import compile_full_match, has_magic
from ._listing import iter_pages
from ._pure import PureS3Path, pattern_string
from ._s3 import ListPage
from ._target import Target


@dataclass(frozen=True)
class GlobPlan:
    """How to list and match one glob pattern below a directory prefix."""

    #: The directory prefix (``""`` or ending with ``/``) that candidates are relative to.
    base: str
    #: The S3 ``Prefix`` to list: ``base`` plus the literal start of the first wildcard segment.
    list_prefix: str
    #: ``"/"`` for one-level listings, ``None`` for flat ones.
    delimiter: str | None
    #: The pattern segments below ``base``.
    segments: tuple[str, ...]
    #: True when the pattern ended with ``/``: only "directories" match.
    dirs_only: bool
    #: True when some segment is ``**``.
    recursive: bool
    matcher: re.Pattern[str]
    #: For a pattern ending in ``**`` after other segments (``*/**``): the pattern without its
    #: final ``**``, which "directories" also match, since ``**`` matches zero segments there
    #: (Python 3.13's ``glob("*/**")`` yields each directory ``d`` as well as what is below it).
    dir_matcher: re.Pattern[str] | None = None
    #: Folding case: the leading literal segments, whose spellings in the bucket must be listed
    #: (one level each) before ``base`` is known; ``rebased`` then plans each spelling found.
    folded_dirs: tuple[str, ...] = ()

    def rebased(self, base: str) -> GlobPlan:
        """This plan below ``base``: a directory found for :attr:`folded_dirs`."""
        head = self.list_prefix[len(self.base) :]
        return replace(self, base=base, list_prefix=base + head, folded_dirs=())


def plan_glob(
    directory_prefix: str,
    pattern: str | os.PathLike[str] | PureS3Path,
    *,
    case_sensitive: bool | None,
) -> GlobPlan:
    """Validate ``pattern`` and plan its listing below ``directory_prefix``.

    The pattern may be a path, as in Python 3.13 (:func:`~aios3path._pure.pattern_string`).
    """
    pattern = pattern_string(pattern)
    if not pattern:
        raise ValueError(f"Unacceptable pattern: {pattern!r}")
    if pattern.startswith("/"):
        raise NotImplementedError("Non-relative patterns are unsupported")
    dirs_only = pattern.endswith("/")
    segments = tuple(s for s in pattern.split("/") if s and s != ".")
    if not segments:
        raise ValueError(f"Unacceptable pattern: {pattern!r}")
    for segment in segments:
        if "**" in segment and segment != "**":
            raise ValueError(
                f"Invalid pattern {pattern!r}: '**' can only be an entire path component"
            )
        if segment == "..":
            raise ValueError(f"Invalid pattern {pattern!r}: '..' has no meaning in S3 keys")
    fold_case = case_sensitive is False
    literal = 0
    while literal < len(segments) - 1 and not has_magic(segments[literal]):
        literal += 1
    rest = segments[literal:]
    head = _literal_head(rest[0])
    if fold_case:
        base, head = directory_prefix, caseless_head(head)
    else:
        base = directory_prefix + "".join(s + "/" for s in segments[:literal])
    recursive = "**" in rest
    flags = re.IGNORECASE if fold_case else 0
    return GlobPlan(
        folded_dirs=segments[:literal] if fold_case else (),
        base=base,
        list_prefix=base + head,
        delimiter=None if recursive or len(rest) > 1 else "/",
        segments=rest,
        dirs_only=dirs_only,
        recursive=recursive,
        matcher=compile_full_match("/".join(rest), flags),
        dir_matcher=_final_double_star_dir_matcher(rest, flags),
    )


def _final_double_star_dir_matcher(segments: tuple[str, ...], flags: int) -> re.Pattern[str] | None:
    """The matcher of ``segments`` without a final ``**`` (``None`` if there is none to drop).

    ``**`` at the end matches zero segments too: ``*/**`` yields the directories ``*`` matches.
    The full matcher cannot say so (``[^/]+/.*`` needs the ``/``), and must not (a *file* that
    ``*`` matches is not yielded), so directories are also tried against this one.
    """
    if segments[-1] != "**":
        return None
    head = list(segments)
    while head and head[-1] == "**":
        head.pop()
    return compile_full_match("/".join(head), flags) if head else None


def _literal_head(segment: str) -> str:
    """The characters of ``segment`` before its first wildcard (all of it if it has none)."""
    if segment == "**":
        return ""
    for i, c in enumerate(segment):
        if c in "*?[":
            return segment[:i]
    return segment


def caseless_head(text: str) -> str:
    """The start of ``text`` that case folding cannot change: ASCII characters other than letters.

    (Python's case-insensitive matching also pairs some non-ASCII characters with ASCII letters,
    ``K`` with the Kelvin sign, so only ASCII non-letters are safe to send as a ``Prefix``.)
    """
    for i, c in enumerate(text):
        if not c.isascii() or c.isalpha():
            return text[:i]
    return text


async def folded_bases(target: Target, plan: GlobPlan) -> list[str]:
    """Every spelling of ``plan.folded_dirs`` below ``plan.base`` as a directory prefix.

    One ``Delimiter="/"`` listing per level and spelling found: ``logs/2024`` folding case
    lists the base's subdirectories, keeps ``LOGS/`` and ``logs/``, then lists each of them.
    """
    bases = [plan.base]
    for segment in plan.folded_dirs:
        matcher = compile_full_match(segment, re.IGNORECASE)
        found: list[str] = []
        for base in bases:
            async for page in iter_pages(
                target.client,
                target.uri,
                target.bucket,
                base + caseless_head(segment),
                delimiter="/",
                params=target.params,
            ):
                found.extend(p for p in page.prefixes if matcher.fullmatch(p[len(base) : -1]))
        bases = found
    return bases


def page_keys(page: ListPage) -> list[str]:
    """The page's object keys and common prefixes (ending with ``/``) merged in key order."""
    if not page.prefixes:
        return [entry.key for entry in page.objects]
    return sorted([entry.key for entry in page.objects] + list(page.prefixes))


class CandidateFilter:
    """Turns listed keys into matching relative paths, each yielded once.

    A key ``a/b/c`` stands for the file ``a/b/c`` and the directories ``a`` and ``a/b``; a key
    ending in ``/`` (a marker object or a common prefix) stands for a directory. Because keys
    arrive sorted, a directory's keys are contiguous: remembering the directories of the last
    key, and the file names that a directory of the same name may still follow, is enough to
    never yield a path twice.
    """

    def __init__(self, plan: GlobPlan) -> None:
        self._plan = plan
        self._depth = None if plan.recursive else len(plan.segments)
        self._open_dirs: list[str] = []
        self._recent_files: deque[str] = deque()
        self._recent_set: set[str] = set()

    def feed(self, keys: Iterable[str]) -> Iterator[str]:
        """The new matching relative paths (``""`` is the base directory itself) for ``keys``."""
        base_len = len(self._plan.base)
        for key in keys:
            yield from self._candidates(key[base_len:])

    def _candidates(self, relative: str) -> Iterator[str]:
        if not relative:  # the marker object of the base directory itself
            if self._depth is None and self._is_new_dir("") and self._matches(""):
                yield ""
            return
        is_dir = relative.endswith("/")
        segments = relative.split("/")
        if is_dir:
            segments.pop()
        self._forget_passed_files(relative)
        depth = self._depth
        if depth is None:
            dirs = ["/".join(segments[:i]) for i in range(len(segments) + (1 if is_dir else 0))]
            for directory in dirs:
                if self._is_new_dir(directory) and self._matches(directory):
                    yield directory
            if not is_dir and self._matches(relative, file=True) and self._is_new_file(relative):
                yield relative
            return
        if len(segments) > depth or (is_dir and len(segments) == depth):
            directory = "/".join(segments[:depth])
            if self._is_new_dir(directory) and self._matches(directory):
                yield directory
        elif (
            len(segments) == depth
            and not is_dir
            and self._matches(relative, file=True)
            and self._is_new_file(relative)
        ):
            yield relative

    def _matches(self, relative: str, file: bool = False) -> bool:
        plan = self._plan
        if file and plan.dirs_only:
            return False
        if plan.matcher.fullmatch(relative) is not None:
            return True
        return (
            not file and plan.dir_matcher is not None and bool(plan.dir_matcher.fullmatch(relative))
        )

    def _is_new_dir(self, directory: str) -> bool:
        """True the first time ``directory`` is seen (as a directory or as a file)."""
        depth = directory.count("/") + 1 if directory else 0
        stack = self._open_dirs
        if len(stack) > depth and stack[depth] == directory:
            return False
        del stack[depth:]
        while len(stack) < depth:
            stack.append("\0")  # an ancestor not yielded through this stack (filled below)
        stack.append(directory)
        # False if a file of the same name was yielded just before.
        return directory not in self._recent_set

    def _is_new_file(self, relative: str) -> bool:
        """Remember a yielded file: a directory of the same name may follow it."""
        if relative in self._open_dirs:
            return False
        self._recent_files.append(relative)
        self._recent_set.add(relative)
        return True

    def _forget_passed_files(self, relative: str) -> None:
        """Drop remembered files whose same-named directory can no longer appear."""
        recent = self._recent_files
        while recent:
            name = recent[0] + "/"
            if relative.startswith(name) or relative <= name:
                return
            self._recent_set.discard(recent.popleft())


async def glob_relative(plan: GlobPlan, pages: AsyncIterator[ListPage]) -> AsyncIterator[list[str]]:
    """Matching relative paths, one list per listing page."""
    candidates = CandidateFilter(plan)
    async for page in pages:
        yield list(candidates.feed(page_keys(page)))
