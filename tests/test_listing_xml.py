"""Reading ``ListObjectsV2`` bodies: the fast scans agree with ElementTree on every body.

The lean path reads listing pages with regular-expression scans and falls back to ElementTree
where a body is unusual. These tests feed both readers the shapes servers really send (AWS's
one-line XML, moto's indented XML, url-encoded and escaped keys, owners, namespace prefixes,
CDATA) and require the same page from both; then they check, against the test server, that
the next page's request is on its way before the caller gets the current page.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import pytest

from aios3path import AsyncS3Path, _pool, configuration_map
from aios3path._listing import iter_pages
from aios3path._listing_xml import _parse_tree, _scan, next_token_hint, parse_list_page

from ._helpers import put
from ._proxy import CountingProxy, http_response

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def contents(key: str, size: int = 3, etag: str = "&#34;abc&#34;") -> str:
    return (
        f"<Contents><Key>{key}</Key><LastModified>2026-11-25T10:20:30.000Z</LastModified>"
        f"<ETag>{etag}</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
    )


def body(*parts: str, truncated: bool = False, token: str = "", encoding: str = "url") -> bytes:
    head = f"<ListBucketResult {NS}><Name>b</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount>"
    head += f"<MaxKeys>1000</MaxKeys><IsTruncated>{str(truncated).lower()}</IsTruncated>"
    tail = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    tail += f"<EncodingType>{encoding}</EncodingType>" if encoding else ""
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + head + "".join(parts) + tail
    return (xml + "</ListBucketResult>").encode()


def read_both(data: bytes) -> Any:
    """The page from both readers, which must agree."""
    tree = _parse_tree(data)
    assert parse_list_page(data) == tree
    return tree


def test_a_plain_page_is_read_by_the_scans_and_matches_elementtree() -> None:
    data = body(contents("p/a.txt", 3), contents("p/b%2Bc+d.txt", 0), truncated=True, token="t1")
    assert _scan(data) is not None  # the fast path took it
    page = read_both(data)
    assert [o.key for o in page.objects] == ["p/a.txt", "p/b+c d.txt"]
    assert [o.size for o in page.objects] == [3, 0]
    assert page.objects[0].etag == '"abc"'
    assert page.objects[0].last_modified == datetime(2026, 11, 25, 10, 20, 30, tzinfo=timezone.utc)
    assert page.next_token == "t1"


def test_common_prefixes_and_an_empty_page() -> None:
    prefixes = "<CommonPrefixes><Prefix>p/d%C3%BC/</Prefix></CommonPrefixes>" * 2
    page = read_both(body(prefixes))
    assert page.objects == [] and list(page.prefixes) == ["p/dü/", "p/dü/"]
    empty = read_both(body())
    assert empty.objects == [] and empty.prefixes == [] and empty.next_token is None


def test_indented_xml_as_moto_writes_it() -> None:
    data = body(
        "\n  <Contents>\n    <Key>p/x</Key>\n    <ETag>&quot;e&quot;</ETag>\n    <Size>7</Size>"
        "\n    <LastModified>2026-01-02T03:04:05Z</LastModified>\n  </Contents>",
        "\n  <CommonPrefixes>\n    <Prefix>p/sub/</Prefix>\n  </CommonPrefixes>\n",
    )
    assert _scan(data) is not None
    page = read_both(data)
    assert [(o.key, o.size, o.etag) for o in page.objects] == [("p/x", 7, '"e"')]
    assert list(page.prefixes) == ["p/sub/"]


def test_keys_that_are_xml_escaped_rather_than_url_encoded() -> None:
    data = body(contents("p/a&amp;b&lt;c&#xD;.txt"), encoding="")
    page = read_both(data)
    assert page.objects[0].key == "p/a&b<c\r.txt"


def test_a_token_with_escaped_characters_is_unescaped() -> None:
    data = body(contents("p/a"), truncated=True, token="a&amp;b/+=")
    assert next_token_hint(data) == "a&b/+="
    assert read_both(data).next_token == "a&b/+="


def test_a_truncation_flag_without_a_token_and_a_token_without_truncation() -> None:
    assert next_token_hint(body(contents("p/a"), truncated=False, token="stale")) is None
    assert read_both(body(contents("p/a"), truncated=False, token="stale")).next_token is None


@pytest.mark.parametrize(
    "unusual",
    [
        pytest.param(
            body(contents("p/a"))
            .replace(b"<Contents>", b"<s3:Contents>")
            .replace(b"</Contents>", b"</s3:Contents>")
            .replace(NS.encode(), NS.replace("xmlns", "xmlns:s3").encode() + b" " + NS.encode()),
            id="namespace-prefix",
        ),
        pytest.param(
            body(contents("<![CDATA[p/a&b]]>"), encoding=""),
            id="cdata",
        ),
        pytest.param(
            body(
                contents("p/a").replace(
                    "</Size>", "</Size><Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner>"
                )
            ),
            id="owner",
        ),
        pytest.param(
            body(contents("p/a").replace("<ETag>&#34;abc&#34;</ETag>", "")),
            id="missing-etag",
        ),
    ],
)
def test_unusual_bodies_go_through_elementtree(unusual: bytes) -> None:
    assert _scan(unusual) is None
    page = parse_list_page(unusual)
    assert page == _parse_tree(unusual)
    assert len(page.objects) == 1


def test_owners_are_read_display_name_first() -> None:
    owned = contents("p/a").replace(
        "</Size>", "</Size><Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner>"
    )
    only_id = contents("p/b").replace("</Size>", "</Size><Owner><ID>id2</ID></Owner>")
    page = parse_list_page(body(owned, only_id))
    assert [o.owner for o in page.objects] == ["me", "id2"]


async def test_the_next_page_is_requested_before_the_caller_gets_this_one(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: put(boto3_client, bucket.bucket, f"d/{i:03d}", b""), range(25)))
    client = await _pool.get_client(configuration_map.resolve(bucket).settings)
    counter.clear()
    pages = iter_pages(client, "u", bucket.bucket, "d/", max_keys=10)
    first = await pages.__anext__()
    deadline = time.monotonic() + 5
    # The proxy counts in its own thread: poll it (an asyncio.Event cannot be set from there).
    while counter.count("ListObjectsV2") < 2 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert len(first.objects) == 10
    assert counter.count("ListObjectsV2") == 2  # the second page is on its way, not the third
    rest = [page async for page in pages]
    assert [len(page.objects) for page in rest] == [10, 5]
    assert counter.count("ListObjectsV2") == 3


def test_url_encoded_keys_are_xml_unescaped_first() -> None:
    # A server may leave ' & < > " to XML escaping even in url-encoded listings.
    data = body(
        contents("p/it&apos;s+a%26b&amp;c"),
        "<CommonPrefixes><Prefix>p/x&amp;y%2F/</Prefix></CommonPrefixes>",
    )
    page = read_both(data)
    assert page.objects[0].key == "p/it's a&b&c"
    assert list(page.prefixes) == ["p/x&y//"]


def test_numeric_references_are_code_points_not_windows_1252() -> None:
    page = read_both(body(contents("p/&#128;&#x9F;"), encoding=""))
    assert page.objects[0].key == "p/\x80\x9f"


def test_an_empty_token_on_a_truncated_page_means_no_next_page() -> None:
    data = body(contents("p/a"), truncated=True).replace(
        b"<EncodingType>", b"<NextContinuationToken></NextContinuationToken><EncodingType>"
    )
    assert next_token_hint(data) is None
    assert read_both(data).next_token is None


async def test_a_server_repeating_its_continuation_token_raises_instead_of_looping(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    from aios3path import S3Error

    looping = body(contents("d/a"), truncated=True, token="again")

    def inject(request: Any) -> bytes | None:
        if request.operation == "ListObjectsV2":
            return http_response(200, "OK", looping)
        return None

    counter.inject = inject
    client = await _pool.get_client(configuration_map.resolve(bucket).settings)
    with pytest.raises(S3Error, match="same continuation token"):
        async for _ in iter_pages(client, "s3://b/d/", bucket.bucket, "d/"):
            pass
    assert counter.count("ListObjectsV2") <= 3
