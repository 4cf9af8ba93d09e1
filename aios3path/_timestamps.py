"""S3's two timestamp formats, parsed quickly.

Listings carry ISO 8601 (``2026-11-25T03:06:54.000Z``), response headers RFC 1123
(``Wed, 25 Nov 2026 03:06:54 GMT``). ``dateutil`` (botocore's default) and
``email.utils.parsedate_to_datetime`` take several microseconds each; these take well under
one, which matters at a thousand entries per listing page. Both return aware UTC datetimes
and raise ``ValueError`` for text they cannot read.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_iso8601(text: str) -> datetime:
    """An ISO 8601 timestamp such as ``2026-11-25T03:06:54.000Z``."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        # Python 3.10 reads only 3 or 6 fractional digits: bring them to 6.
        head, dot, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if not dot or not digits:
            raise
        fraction = rest[:digits][:6].ljust(6, "0")
        return datetime.fromisoformat(f"{head}.{fraction}{rest[digits:]}")


def parse_http_date(text: str) -> datetime:
    """An RFC 1123 HTTP date such as ``Wed, 25 Nov 2026 03:06:54 GMT`` (other forms: slower)."""
    parts = text.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTHS:
        clock = parts[4].split(":")
        if len(clock) == 3:
            try:
                return datetime(
                    int(parts[3]),
                    _MONTHS[parts[2]],
                    int(parts[1]),
                    int(clock[0]),
                    int(clock[1]),
                    int(clock[2]),
                    tzinfo=timezone.utc,
                )
            except ValueError:
                pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, IndexError) as error:
        raise ValueError(f"not an HTTP date: {text!r}") from error
