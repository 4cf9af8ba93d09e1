"""Local files <-> S3: ``upload_from`` / ``download_to`` with parts, progress and clean failures."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3Path,
    TransferConfig,
    register_configuration_parameter,
)
from aios3path._file import S3ObjectChangedError
from aios3path._transfer_config import MiB
from aios3path.testing import S3Server

from ._helpers import keys_of, put
from ._proxy import CountingProxy
from .test_copy_fidelity import other_endpoint_settings
from .test_open import PART, payload, uploads_of


class ProgressPercentage:
    """boto3's documented progress callback, unchanged (it sizes a local file)."""

    def __init__(self, filename: str) -> None:
        self._filename = filename
        self._size = float(os.path.getsize(filename))
        self._seen_so_far = 0
        self._lock = threading.Lock()

    def __call__(self, bytes_amount: int) -> None:
        with self._lock:
            self._seen_so_far += bytes_amount
            percentage = (self._seen_so_far / self._size) * 100
            sys.stdout.write(
                f"\r{self._filename}  {self._seen_so_far} / {self._size}  ({percentage:.2f}%)"
            )
            sys.stdout.flush()


def recorder_class() -> type[Any]:
    """A fresh progress callback class that records its instances and the bytes reported."""

    class Recorder:
        instances: ClassVar[list[Recorder]] = []

        def __init__(self, source: Any) -> None:
            self.source = source
            # What users' callbacks do: size the source (a local file or an S3Path).
            self.size = (
                os.path.getsize(source) if isinstance(source, str) else source.stat().st_size
            )
            self.thread = threading.current_thread()
            self.amounts: list[int] = []
            Recorder.instances.append(self)

        def __call__(self, amount: int) -> None:
            self.amounts.append(amount)

    return Recorder


def configure(bucket: str, callback: Any = None, **transfer: Any) -> None:
    """5 MiB parts for ``bucket``, and ``callback`` as its progress callback class."""
    settings: dict[str, Any] = {"multipart_threshold": PART, "multipart_chunksize": PART}
    settings.update(transfer)
    parameters: dict[str, Any] = {"transfer_config": TransferConfig(**settings)}
    if callback is not None:
        parameters["callback_class"] = callback
    register_configuration_parameter(PureS3Path(f"/{bucket}/"), parameters=parameters)


def contents(directory: Path) -> list[str]:
    """The names in ``directory``."""
    return sorted(p.name for p in directory.iterdir())


def leftovers(directory: Path) -> list[str]:
    """Temporary download files left in ``directory``."""
    return [p.name for p in directory.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("size", [0, 1000, 2 * PART + 77])
async def test_upload_from_with_progress(
    bucket: AsyncS3Path, tmp_path: Path, counter: CountingProxy, size: int
) -> None:
    recorder = recorder_class()
    configure(bucket.bucket, recorder)
    data = payload(size, seed=size)
    local = tmp_path / "upload.bin"
    local.write_bytes(data)
    counter.clear()
    assert await (bucket / "up").upload_from(local) == size
    assert await (bucket / "up").read_bytes() == data
    (instance,) = recorder.instances
    assert instance.source == str(local) and instance.size == size
    assert instance.thread is not threading.main_thread()  # made off the event loop
    assert sum(instance.amounts) == size
    ops = counter.operations()
    if size > PART:
        assert (ops["CreateMultipartUpload"], ops["UploadPart"]) == (1, 3)
        assert len(instance.amounts) == 3
    else:
        assert ops["PutObject"] == 1 and "CreateMultipartUpload" not in ops


@pytest.mark.parametrize("size", [0, 1000, 2 * PART + 77])
async def test_download_to_with_progress(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path, size: int
) -> None:
    recorder = recorder_class()
    configure(bucket.bucket, recorder)
    data = payload(size, seed=size + 1)
    put(boto3_client, bucket.bucket, "down", data)
    target = tmp_path / "down.bin"
    assert await (bucket / "down").download_to(str(target)) == size
    assert target.read_bytes() == data
    (instance,) = recorder.instances
    assert type(instance.source) is S3Path  # sync callbacks get a sync path
    assert instance.source == S3Path("/", bucket.bucket, "down")
    assert instance.size == size and sum(instance.amounts) == size
    assert leftovers(tmp_path) == []


async def test_download_replaces_an_existing_file(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "k", "new content")
    target = tmp_path / "existing.txt"
    target.write_text("old")
    await (bucket / "k").download_to(target)
    assert target.read_text() == "new content"


async def test_failed_download_leaves_no_partial_file(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    target = tmp_path / "target.bin"
    target.write_bytes(b"keep me")
    with pytest.raises(FileNotFoundError):
        await (bucket / "missing").download_to(target)

    class Exploding:
        def __init__(self, source: Any) -> None:
            self.seen = 0

        def __call__(self, amount: int) -> None:
            self.seen += amount
            if self.seen > MiB:
                raise RuntimeError("disk full, say")

    configure(bucket.bucket, Exploding)
    put(boto3_client, bucket.bucket, "big", payload(2 * PART + 5))
    with pytest.raises(RuntimeError, match="disk full"):
        await (bucket / "big").download_to(target)
    assert target.read_bytes() == b"keep me"
    assert leftovers(tmp_path) == []


async def test_cancelled_download_leaves_no_partial_file(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    configure(bucket.bucket, max_bandwidth=8 * MiB)  # slow enough to cancel midway
    put(boto3_client, bucket.bucket, "big", payload(2 * PART))
    task = asyncio.ensure_future((bucket / "big").download_to(tmp_path / "never.bin"))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert contents(tmp_path) == []


async def test_download_detects_an_overwrite_midway(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    first = True

    class OverwriteOnce:
        def __init__(self, source: Any) -> None:
            pass

        def __call__(self, amount: int) -> None:
            nonlocal first
            if first:
                first = False
                put(boto3_client, bucket.bucket, "moving", b"replaced")

    configure(bucket.bucket, OverwriteOnce, max_concurrency=1)
    put(boto3_client, bucket.bucket, "moving", payload(2 * PART + 1))
    with pytest.raises(S3ObjectChangedError):
        await (bucket / "moving").download_to(tmp_path / "mixed.bin")
    assert contents(tmp_path) == []


async def test_failed_upload_leaves_no_object_and_no_parts(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    class Exploding:
        def __init__(self, source: Any) -> None:
            pass

        def __call__(self, amount: int) -> None:
            raise RuntimeError("stop")

    configure(bucket.bucket, Exploding)
    local = tmp_path / "big.bin"
    local.write_bytes(payload(2 * PART + 1))
    with pytest.raises(RuntimeError, match="stop"):
        await (bucket / "up").upload_from(local)
    assert keys_of(boto3_client, bucket.bucket) == []
    assert uploads_of(boto3_client, bucket.bucket) == []
    with pytest.raises(FileNotFoundError):
        await (bucket / "up").upload_from(tmp_path / "no-such-file")


async def test_upload_applies_registered_parameters(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/"),
        parameters={
            "ContentType": "application/x-big",
            "Metadata": {"via": "upload_from"},
            "transfer_config": TransferConfig(multipart_threshold=PART, multipart_chunksize=PART),
        },
    )
    local = tmp_path / "f.bin"
    for size in (10, PART + 1):
        local.write_bytes(payload(size))
        await (bucket / f"f{size}").upload_from(local)
        head = boto3_client.head_object(Bucket=bucket.bucket, Key=f"f{size}")
        assert head["ContentType"] == "application/x-big"
        assert head["Metadata"] == {"via": "upload_from"}


@pytest.mark.parametrize("size", [2 * MiB, PART + 2 * MiB], ids=["one-request", "in-parts"])
@pytest.mark.parametrize("how", ["download_to", "read_bytes", "write_bytes"])
async def test_max_bandwidth_limits_the_rate(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path, how: str, size: int
) -> None:
    configure(bucket.bucket, max_bandwidth=4 * MiB)
    data = payload(size)
    put(boto3_client, bucket.bucket, "k", data)
    started = time.monotonic()
    if how == "download_to":
        await (bucket / "k").download_to(tmp_path / "k")
    elif how == "read_bytes":
        assert await (bucket / "k").read_bytes() == data
    else:
        await (bucket / "k2").write_bytes(data)
    elapsed = time.monotonic() - started
    assert elapsed >= size / (4 * MiB) - 0.15  # at 4 MiB/s, less the 0.1 s burst allowance


def test_sync_upload_and_download_with_the_documented_callback(
    sync_bucket: S3Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(sync_bucket.bucket, ProgressPercentage)
    data = payload(PART + 1234, seed=9)
    local = tmp_path / "local.bin"
    local.write_bytes(data)
    assert (sync_bucket / "remote").upload_from(str(local)) == len(data)
    out = capsys.readouterr().out
    assert f"{local}  {len(data)} / {float(len(data))}  (100.00%)" in out

    recorder = recorder_class()  # its constructor calls S3Path.stat() from a worker thread
    configure(sync_bucket.bucket, recorder)
    back = tmp_path / "back.bin"
    assert (sync_bucket / "remote").download_to(back) == len(data)
    assert back.read_bytes() == data
    (instance,) = recorder.instances
    assert instance.size == len(data) and sum(instance.amounts) == len(data)


def test_many_transfers_whose_callbacks_make_big_sync_writes_do_not_deadlock(
    sync_bucket: S3Path, tmp_path: Path
) -> None:
    """Callback constructors may use the sync API; one that writes a multipart object needs
    the loop's worker threads (for checksums). Constructors used to run in those same threads:
    more transfers at once than workers, and every worker waited for the loop, which waited
    for a worker."""
    bucket = sync_bucket.bucket

    class WritesOnStart:
        def __init__(self, source: Any) -> None:
            name = f"logs/{threading.get_ident()}-{time.monotonic_ns()}"
            S3Path("/", bucket, name).write_bytes(b"l" * (2 * PART))

        def __call__(self, amount: int) -> None:
            pass

    configure(bucket, WritesOnStart)
    local = tmp_path / "small.txt"
    local.write_text("x")
    count = (os.cpu_count() or 1) + 6  # more than asyncio's default executor has threads
    done: list[int] = []

    def upload(i: int) -> None:
        (sync_bucket / "data" / f"f{i}").upload_from(str(local))
        done.append(i)

    threads = [threading.Thread(target=upload, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    assert sorted(done) == list(range(count))
    assert len(list((sync_bucket / "logs").iterdir())) == count


async def test_download_into_a_missing_directory_fails_cleanly(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "k", "x")
    with pytest.raises(FileNotFoundError):
        await (bucket / "k").download_to(tmp_path / "no" / "such" / "dir" / "k")
    with pytest.raises(IsADirectoryError):
        await (bucket / "k").download_to(tmp_path)
    assert contents(tmp_path) == []


async def test_a_download_may_have_the_longest_local_name_the_file_system_allows(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    """The temporary file's name has a fixed length: it fits wherever the target's name does."""
    longest = os.pathconf(tmp_path, "PC_NAME_MAX")  # 255 on most file systems
    put(boto3_client, bucket.bucket, "k", "content")
    downloaded, copied = tmp_path / ("d" * longest), tmp_path / ("c" * longest)
    assert await (bucket / "k").download_to(downloaded) == len("content")
    await (bucket / "k").copy(copied)
    assert downloaded.read_text() == copied.read_text() == "content"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("existing-directory", IsADirectoryError),
        ("missing/parent/file.bin", FileNotFoundError),
        ("a-file/file.bin", NotADirectoryError),
    ],
)
async def test_a_download_that_cannot_be_written_fails_at_once_naming_the_target(
    bucket: AsyncS3Path,
    boto3_client: Any,
    tmp_path: Path,
    counter: CountingProxy,
    where: str,
    error: type[OSError],
) -> None:
    """Before any request (nothing is downloaded in vain), and as ``open(target, "wb")`` would."""
    (tmp_path / "existing-directory").mkdir()
    (tmp_path / "a-file").write_text("a file")
    put(boto3_client, bucket.bucket, "big", payload(2 * PART))
    target = tmp_path / where
    counter.clear()
    with pytest.raises(error) as raised:
        await (bucket / "big").download_to(target)
    assert (raised.value.filename, raised.value.filename2) == (str(target), None)
    assert counter.count() == 0
    assert contents(tmp_path) == ["a-file", "existing-directory"]
    assert contents(tmp_path / "existing-directory") == []


async def test_an_error_at_the_end_of_a_download_names_the_target_not_the_temporary_file(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    """Here a directory appears at the target while the download runs: the rename fails."""
    target = tmp_path / "target.bin"

    class MakeADirectoryThere:
        def __init__(self, source: Any) -> None:
            pass

        def __call__(self, amount: int) -> None:
            target.mkdir(exist_ok=True)

    configure(bucket.bucket, MakeADirectoryThere)
    put(boto3_client, bucket.bucket, "k", payload(1000))
    with pytest.raises(IsADirectoryError) as raised:
        await (bucket / "k").download_to(target)
    assert (raised.value.filename, raised.value.filename2) == (str(target), None)
    assert contents(tmp_path) == ["target.bin"] and target.is_dir()
    assert contents(target) == []


@pytest.mark.parametrize("size", [4 * MiB, PART + 2 * MiB], ids=["one-request", "in-parts"])
async def test_max_bandwidth_limits_a_copy_streamed_between_endpoints(
    bucket: AsyncS3Path, boto3_client: Any, s3_server: S3Server, size: int
) -> None:
    """The object's bytes pass through this process (in, then out) at the target's rate."""
    configure(bucket.bucket, max_bandwidth=4 * MiB)
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/far/"), resource=other_endpoint_settings(s3_server)
    )
    data = payload(size)
    put(boto3_client, bucket.bucket, "k", data)
    started = time.monotonic()
    await (bucket / "k").copy(bucket / "far" / "k")
    elapsed = time.monotonic() - started
    assert elapsed >= size / (4 * MiB) - 0.15  # at 4 MiB/s, less the 0.1 s burst allowance
    assert await (bucket / "far" / "k").read_bytes() == data
