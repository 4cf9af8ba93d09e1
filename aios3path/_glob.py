"""Glob patterns translated to regular expressions, with pathlib's meaning.

``*``, ``?`` and ``[seq]``/``[!seq]`` match within one segment (never across ``/``); ``**`` as a
whole segment matches any number of segments. Compiled patterns are cached.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NOT_SEP = "[^/]"


def has_magic(segment: str) -> bool:
    """True when ``segment`` holds a wildcard (``*``, ``?`` or ``[``)."""
    return any(c in segment for c in "*?[")


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
            stuff = pattern[i:j].replace("\\", "\\\\")
            i = j + 1
            if stuff.startswith("!"):
                stuff = "^" + stuff[1:]
            elif stuff.startswith("^"):
                stuff = "\\" + stuff
            out.append(f"(?!/)[{stuff}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


@lru_cache(maxsize=512)
def compile_segment(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled matcher for one segment (use with ``fullmatch``)."""
    return re.compile(translate_segment(pattern), flags | re.DOTALL)


def translate_path(pattern: str) -> str:
    """The regular expression for a whole ``/``-separated pattern (Python 3.13 semantics).

    ``*`` alone matches one non-empty segment, ``**`` alone any number of segments (a final
    ``**`` matches anything below), other segments as :func:`translate_segment`.
    """
    absolute = pattern.startswith("/")
    parts = [p for p in pattern.split("/") if p and p != "."]
    out: list[str] = ["/"] if absolute else []
    last = len(parts) - 1
    for idx, part in enumerate(parts):
        if part == "**":
            if idx < last:
                if parts[idx + 1] != "**":
                    out.append("(?:.+/)?")
            else:
                out.append(".*")
            continue
        if part == "*":
            out.append(f"{_NOT_SEP}+")
        else:
            out.append(translate_segment(part))
        if idx < last:
            out.append("/")
    return "".join(out)


@lru_cache(maxsize=512)
def compile_full_match(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled matcher for a whole path (use with ``fullmatch``)."""
    return re.compile(translate_path(pattern), flags | re.DOTALL)
