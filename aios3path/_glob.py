"""Glob patterns translated to regular expressions, with pathlib's meaning.

``*``, ``?`` and ``[seq]``/``[!seq]`` match within one segment (never across ``/``, not even a
negated class); a segment that is only ``*`` matches one *non-empty* segment (in
:func:`translate_path`, as in Python 3.13, only an exact ``*``: there ``***`` may match an empty
one); ``**`` as a whole segment matches any number of segments. Character classes follow
:mod:`fnmatch`: ``[a-c]`` ranges, ``!`` negates, a leading ``]`` is literal, a reversed range
such as ``[z-a]`` matches nothing, a ``[`` without its ``]`` is literal. Compiled patterns are
cached.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NOT_SEP = "[^/]"
_ONE_SEGMENT = f"{_NOT_SEP}+"


def has_magic(segment: str) -> bool:
    """True when ``segment`` holds a wildcard (``*``, ``?`` or ``[``)."""
    return any(c in segment for c in "*?[")


def _translate_class(body: str) -> str:
    """The regular expression for the inside of ``[...]`` (``body`` excludes the brackets)."""
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    items: list[str] = []
    k, n = 0, len(body)
    while k < n:
        if k + 2 < n and body[k + 1] == "-":
            low, high = body[k], body[k + 2]
            k += 3
            if low <= high:  # a reversed range matches nothing, as in fnmatch
                items.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            items.append(re.escape(body[k]))
            k += 1
    chars = "".join(items)
    # A class never matches the separator: a segment cannot contain one.
    if negate:
        return f"[^/{chars}]"
    return f"(?!/)[{chars}]" if chars else "(?!)"


def translate_segment(pattern: str, star: str = f"{_NOT_SEP}*") -> str:
    """The regular expression (without anchors) for one segment of a glob pattern."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not out or out[-1] != star:
                out.append(star)
        elif c == "?":
            out.append(_NOT_SEP)
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append("\\[")
                continue
            out.append(_translate_class(pattern[i:j]))
            i = j + 1
        else:
            out.append(re.escape(c))
    return "".join(out)


@lru_cache(maxsize=512)
def compile_segment(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled matcher for one segment (use with ``fullmatch``).

    A segment of only ``*`` matches one non-empty segment (an empty one exists only in exact keys
    such as ``a//b``).
    """
    regex = _ONE_SEGMENT if pattern and not pattern.strip("*") else translate_segment(pattern)
    return re.compile(regex, flags | re.DOTALL)


def translate_path(pattern: str) -> str:
    """The regular expression for a whole ``/``-separated pattern (Python 3.13 semantics).

    Empty and ``.`` segments of the pattern are ignored (``..`` is literal). ``*`` alone matches
    one non-empty segment, ``**`` alone any number of segments (a final ``**`` matches anything
    below), other segments as :func:`translate_segment`. An empty pattern matches only the empty
    path, whose string is then ``""``.
    """
    absolute = pattern.startswith("/")
    parts = [p for p in pattern.split("/") if p and p != "."]
    out: list[str] = ["/"] if absolute else []
    last = len(parts) - 1
    for idx, part in enumerate(parts):
        if part == "**":
            if idx < last:
                if parts[idx + 1] != "**":
                    # After a separator, ``.*/`` may also match an empty segment (``a//b``);
                    # at the start of a relative pattern ``.+/`` keeps the root out of it.
                    out.append("(?:.*/)?" if out else "(?:.+/)?")
            else:
                out.append(".*")
            continue
        out.append(_ONE_SEGMENT if part == "*" else translate_segment(part))
        if idx < last:
            out.append("/")
    return "".join(out)


@lru_cache(maxsize=512)
def compile_full_match(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled matcher for a whole path (use with ``fullmatch``)."""
    return re.compile(translate_path(pattern), flags | re.DOTALL)
