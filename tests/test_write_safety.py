"""Writes that replace something keep what they do not mean to change, and leave no debris.

* Appending (``open("a")``/``open("ab")``) rewrites the object: the new one keeps the old
  one's content type, other content headers, user metadata and tags; parameters registered
  for the path still apply over them.
* A cancellation while ``CreateMultipartUpload`` is under way (the server may have created
  the upload, its answer has not arrived) leaves no multipart upload behind: writers,
  ``upload_from`` and multipart copies abort the upload the request created.
* ``download_to`` over an existing file keeps the file's permissions, and writes through a
  symbolic link to the file it leads to (the link stays a link).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import stat
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from aios3path import AsyncS3Path, PureS3Path, TransferConfig, register_configuration_parameter
from aios3path._concurrency import run_cleanup
from aios3path._transfer_config import MiB

from ._helpers import keys_of, put
from ._proxy import CountingProxy, Request
from .test_copy_fidelity import ATTRIBUTES, attributes_of, tags_of
from .test_open import PART, payload, small_parts, uploads_of

# -- appending ----------------------------------------------------------------------------------


async def test_appending_keeps_what_write_text_set(bucket: AsyncS3Path) -> None:
    log = bucket / "log.csv"
    await log.write_text("a,b\n", content_type="text/csv", metadata={"author": "me"})
    async with log.open("a") as f:
        await f.write("1,2\n")
    info = await log.stat()
    assert (info.content_type, info.metadata) == ("text/csv", {"author": "me"})
    assert await log.read_text() == "a,b\n1,2\n"


@pytest.mark.parametrize(
    "size", [10, PART + 100], ids=["rewritten-by-PutObject", "carried-over-by-UploadPartCopy"]
)
async def test_appending_keeps_content_headers_metadata_and_tags(
    bucket: AsyncS3Path, boto3_client: Any, size: int
) -> None:
    small_parts(bucket.bucket)
    base = payload(size, seed=size)
    boto3_client.put_object(
        Bucket=bucket.bucket, Key="data", Body=base, Tagging="team=data&stage=raw", **ATTRIBUTES
    )
    async with (bucket / "data").open("ab") as f:
        await f.write(b"tail")
    assert await (bucket / "data").read_bytes() == base + b"tail"
    assert attributes_of(boto3_client, bucket.bucket, "data") == ATTRIBUTES
    assert tags_of(boto3_client, bucket.bucket, "data") == [  # sorted by key
        {"Key": "stage", "Value": "raw"},
        {"Key": "team", "Value": "data"},
    ]
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_registered_parameters_apply_over_the_appended_objects_own(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/typed/"),
        parameters={"ContentType": "text/plain", "Tagging": "stage=appended"},
    )
    boto3_client.put_object(
        Bucket=bucket.bucket, Key="typed/log", Body=b"one\n", Tagging="stage=raw", **ATTRIBUTES
    )
    counter.clear()
    async with (bucket / "typed" / "log").open("a") as f:
        await f.write("two\n")
    kept = attributes_of(boto3_client, bucket.bucket, "typed/log")
    assert kept == {**ATTRIBUTES, "ContentType": "text/plain"}  # the rest is the object's own
    assert tags_of(boto3_client, bucket.bucket, "typed/log") == [
        {"Key": "stage", "Value": "appended"}
    ]
    assert not any("tagging" in r.query for r in counter.requests)  # the old tags are not asked


async def test_appending_to_an_untagged_object_sends_no_tagging_request(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    put(boto3_client, bucket.bucket, "log", "one\n")
    counter.clear()
    async with (bucket / "log").open("a") as f:
        await f.write("two\n")
    assert counter.operations() == {"HeadObject": 1, "GetObject": 1, "PutObject": 1}
    assert not any("tagging" in r.query for r in counter.requests)
    assert tags_of(boto3_client, bucket.bucket, "log") == []


@pytest.mark.parametrize(
    ("size", "copy_chunk"),
    [(PART + 1, PART), (9 * MiB, 8 * MiB), (3 * PART + 1, PART)],
    ids=["just-over-one-part", "under-two-copy-parts", "just-over-three-parts"],
)
async def test_appending_copies_the_old_object_in_parts_s3_accepts(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, size: int, copy_chunk: int
) -> None:
    """The old object is copied server-side in ranges of at least ``multipart_copy_chunksize``.

    Appended data follows the copied ranges, so every one of them must be a full part (5 MiB
    or more): the object is cut into ``size // copy_chunk`` even ranges, never more.
    """
    small_parts(bucket.bucket, multipart_copy_chunksize=copy_chunk)
    base = payload(size, seed=size)
    put(boto3_client, bucket.bucket, "log", base)
    counter.clear()
    async with (bucket / "log").open("ab") as f:
        await f.write(b"one more line\n")
    assert await (bucket / "log").read_bytes() == base + b"one more line\n"
    copied = sorted(
        tuple(int(n) for n in r.headers["x-amz-copy-source-range"][len("bytes=") :].split("-"))
        for r in counter.requests
        if "x-amz-copy-source-range" in r.headers
    )
    assert len(copied) == size // copy_chunk
    assert copied[0][0] == 0 and copied[-1][1] == size - 1
    assert all(last + 1 == first for (_, last), (first, _) in itertools.pairwise(copied))
    assert all(last - first + 1 >= copy_chunk for first, last in copied)
    assert uploads_of(boto3_client, bucket.bucket) == []


# -- cancelled while the multipart upload is being created -----------------------------------


class HeldCreation:
    """A proxy hook that holds ``CreateMultipartUpload`` until the test lets it through.

    The request has left the client; the server gets it (and creates the upload) only after
    :attr:`release` is set, so a cancellation in between lands exactly in the window where the
    client cannot know the upload id yet.
    """

    def __init__(self) -> None:
        self.seen = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: Request) -> bytes | None:
        if request.operation == "CreateMultipartUpload" and not self.release.is_set():
            self.seen.set()
            self.release.wait(30)  # blocks the proxy's own thread, not the test's loop
        return None  # forwarded unchanged


async def _write(bucket: AsyncS3Path, tmp_path: Path) -> None:
    await (bucket / "written").write_bytes(payload(PART + 1))


async def _upload(bucket: AsyncS3Path, tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    await asyncio.to_thread(local.write_bytes, payload(PART + 1))
    await (bucket / "uploaded").upload_from(local)


async def _copy(bucket: AsyncS3Path, tmp_path: Path) -> None:
    await (bucket / "source").copy(bucket / "copied")


@pytest.mark.parametrize(
    "operation", [_write, _upload, _copy], ids=["write_bytes", "upload_from", "multipart-copy"]
)
async def test_a_cancellation_while_the_upload_is_created_leaves_no_upload(
    bucket: AsyncS3Path,
    boto3_client: Any,
    counter: CountingProxy,
    tmp_path: Path,
    operation: Callable[[AsyncS3Path, Path], Awaitable[None]],
) -> None:
    small_parts(bucket.bucket, multipart_copy_threshold=PART, multipart_copy_chunksize=PART)
    put(boto3_client, bucket.bucket, "source", payload(PART + 1))
    held = HeldCreation()
    counter.inject = held
    task = asyncio.ensure_future(operation(bucket, tmp_path))
    try:
        assert await asyncio.to_thread(held.seen.wait, 30)
        task.cancel()
    finally:
        held.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Nothing to wait for: the cancelled call returned only once the upload was aborted.
    assert uploads_of(boto3_client, bucket.bucket) == []
    assert counter.count("AbortMultipartUpload") == 1
    assert keys_of(boto3_client, bucket.bucket) == ["source"]


# -- downloading over what is there --------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444], ids=oct)
async def test_a_download_over_an_existing_file_keeps_its_permissions(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path, mode: int
) -> None:
    put(boto3_client, bucket.bucket, "k", "new content")
    target = tmp_path / "secret"
    target.write_text("old")
    target.chmod(mode)
    await (bucket / "k").download_to(target)
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_text() == "new content"
    assert os.listdir(tmp_path) == ["secret"]


async def test_a_new_file_gets_the_mode_the_umask_gives(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "k", "content")
    umask = os.umask(0)
    os.umask(umask)
    await (bucket / "k").download_to(tmp_path / "fresh")
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o666 & ~umask


async def test_a_download_to_a_symbolic_link_replaces_the_file_it_leads_to(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/"), parameters={"transfer_config": config}
    )
    data = payload(2 * PART + 3, seed=21)  # in parts: each written through the link's target
    put(boto3_client, bucket.bucket, "big", data)
    links, files = tmp_path / "links", tmp_path / "files"
    links.mkdir()
    files.mkdir()
    real = files / "real.bin"
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = links / "link.bin"
    link.symlink_to(Path("..", "files", "real.bin"))  # relative, as links often are
    await (bucket / "big").download_to(link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() == data
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert os.listdir(links) == ["link.bin"] and os.listdir(files) == ["real.bin"]


async def test_a_link_to_a_missing_file_gets_that_file_created(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "k", "content")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "not-yet")
    await (bucket / "k").download_to(link)
    assert link.is_symlink() and (tmp_path / "not-yet").read_text() == "content"


# -- clean-ups that outlive their callers -------------------------------------------------------


async def test_a_clean_up_outlives_a_second_cancellation_and_its_error_is_not_logged() -> None:
    """As when the parallel parts of a download are cancelled twice (``map_bounded`` does):
    removing the temporary file goes on, and its failure (already gone) is nobody's to log."""
    loop = asyncio.get_running_loop()
    logged: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: logged.append(context))
    finished = asyncio.Event()

    async def remove_temporary() -> None:
        await asyncio.sleep(0.05)
        finished.set()
        raise FileNotFoundError("the temporary file is gone already")

    async def download() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            with contextlib.suppress(OSError):
                await run_cleanup(remove_temporary())
            raise

    task = asyncio.ensure_future(download())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()  # the second cancellation leaves the clean-up running on its own
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(finished.wait(), 2)
    await asyncio.sleep(0.01)
    gc.collect()
    assert logged == []
