"""``ListObjectsV2`` response bodies to :class:`ListPage`, fast.

S3 servers answer listings with flat, machine-written XML: every ``<Contents>`` holds one
``<Key>``, ``<Size>``, ``<ETag>`` and ``<LastModified>``, and no other element uses those names.
For such a body, a handful of regular-expression scans (each one C loop over the whole page)
give every field in document order, several times faster than building an ElementTree. The
scans are checked before they are trusted: the number of ``<Contents>`` and
``<CommonPrefixes>`` elements must equal the number of each field found, and anything
unusual (namespace prefixes, CDATA, owners) goes through ElementTree instead. Both parsers
give the same :class:`ListPage`; the tests check them against each other.

:func:`next_token_hint` finds the continuation token without parsing, so the request for the
next page can be sent before this one is parsed.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus
from xml.etree import ElementTree

from ._entries import ListPage, ObjectEntry
from ._timestamps import parse_iso8601

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_KEYS = re.compile(rb"<Key>([^<]*)</Key>")
_SIZES = re.compile(rb"<Size>([^<]*)</Size>")
_ETAGS = re.compile(rb"<ETag>([^<]*)</ETag>")
_DATES = re.compile(rb"<LastModified>([^<]*)</LastModified>")
_PREFIXES = re.compile(rb"<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>\s*</CommonPrefixes>")
_TRUNCATED = re.compile(rb"<IsTruncated>\s*true\s*</IsTruncated>", re.IGNORECASE)
_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_URL_ENCODED = re.compile(rb"<EncodingType>\s*url\s*</EncodingType>")
_UNUSUAL = re.compile(rb"<!\[CDATA\[|<Owner>|<\w+:")


_XML_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(match: re.Match[str]) -> str:
    hexadecimal, decimal, name = match.groups()
    if name:
        return _NAMED[name]
    return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))


def next_token_hint(body: bytes | bytearray) -> str | None:
    """The page's continuation token if it is truncated, found without parsing the page.

    A hint: a body this scan misreads gives ``None`` or a different token than
    :func:`parse_list_page`, and callers go by the parsed one then.
    """
    if _TRUNCATED.search(body) is None:
        return None
    match = _TOKEN.search(body)
    return (xml_unescape(match.group(1).decode()) or None) if match is not None else None


def parse_list_page(body: bytes | bytearray) -> ListPage:
    """The :class:`ListPage` of a ``ListObjectsV2`` response body."""
    page = _scan(body)
    return page if page is not None else _parse_tree(body)


def xml_unescape(text: str) -> str:
    """XML character data to text: the five named entities and numeric references."""
    return _XML_ENTITY.sub(_entity, text) if "&" in text else text


def _url_decode(text: str) -> str:
    """A url-encoded key or prefix (``encoding-type=url``), XML-unescaped first."""
    if "&" in text:
        text = _XML_ENTITY.sub(_entity, text)
    return unquote_plus(text) if "%" in text or "+" in text else text


def _unescape_etag(text: str) -> str:
    if "&" in text:
        text = text.replace("&#34;", '"').replace("&quot;", '"')
        if "&" in text:
            text = _XML_ENTITY.sub(_entity, text)
    return text


def _scan(body: bytes | bytearray) -> ListPage | None:
    """The page from regular-expression scans, or ``None`` where they cannot be trusted."""
    if _UNUSUAL.search(body) is not None:
        return None
    keys = _KEYS.findall(body)
    count = len(keys)
    if body.count(b"Contents>") != 2 * count:
        return None
    sizes = _SIZES.findall(body)
    etags = _ETAGS.findall(body)
    dates = _DATES.findall(body)
    if not (len(sizes) == len(etags) == len(dates) == count):
        return None
    prefixes = _PREFIXES.findall(body)
    if body.count(b"CommonPrefixes>") != 2 * len(prefixes):
        return None
    decode = _url_decode if _URL_ENCODED.search(body) is not None else xml_unescape
    try:
        objects = [
            ObjectEntry(
                decode(key.decode()),
                int(size),
                parse_iso8601(date.decode()),
                _unescape_etag(etag.decode()),
            )
            for key, size, etag, date in zip(keys, sizes, etags, dates, strict=True)
        ]
    except ValueError:  # a size or date we cannot read: let ElementTree have a look
        return None
    return ListPage(
        objects,
        [decode(prefix.decode()) for prefix in prefixes],
        next_token_hint(body),
    )


def _text(element: ElementTree.Element, tag: str) -> str | None:
    child = element.find(_NS + tag)
    if child is None:
        child = element.find(tag)
    return None if child is None else (child.text or "")


def _parse_tree(body: bytes | bytearray) -> ListPage:
    """The page through ElementTree: any well-formed ``ListBucketResult``."""
    root = ElementTree.fromstring(body)
    ns = _NS if root.tag.startswith(_NS) else ""
    url_encoded = (_text(root, "EncodingType") or "") == "url"
    skip = len(ns)
    objects = []
    for item in root.iterfind(ns + "Contents"):
        # One pass over the children (a find() per field would scan them once each).
        key, size, modified, etag, owner = "", 0, None, None, None
        for child in item:
            tag = child.tag[skip:]
            text = child.text or ""
            if tag == "Key":
                key = unquote_plus(text) if url_encoded else text
            elif tag == "Size":
                size = int(text or 0)
            elif tag == "ETag":
                etag = text
            elif tag == "LastModified" and text:
                modified = parse_iso8601(text)
            elif tag == "Owner":
                owner = _text(child, "DisplayName") or _text(child, "ID") or None
        objects.append(ObjectEntry(key, size, modified, etag, owner))
    prefixes = []
    for common in root.iterfind(ns + "CommonPrefixes"):
        prefix = _text(common, "Prefix") or ""
        prefixes.append(unquote_plus(prefix) if url_encoded else prefix)
    truncated = (_text(root, "IsTruncated") or "").lower() == "true"
    token = _text(root, "NextContinuationToken") if truncated else None
    return ListPage(objects, prefixes, token or None)
