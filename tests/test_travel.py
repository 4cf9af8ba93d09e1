"""Paths that travel: pickling, configuration snapshots, process pools, Dask, interpreter exit."""

from __future__ import annotations

import multiprocessing
import pickle
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aios3path import (
    AsyncS3Path,
    AsyncVersionedS3Path,
    PureS3Path,
    PureVersionedS3Path,
    S3Path,
    VersionedS3Path,
    configuration_map,
    register_configuration_parameter,
)
from aios3path.testing import S3Server

from ._proxy import CountingProxy

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    "path",
    [
        PureS3Path("/b/k"),
        AsyncS3Path("/b/dir/k.txt"),
        S3Path.from_bucket_key("b", "a//odd key/"),
        PureVersionedS3Path("/b/k", version_id="v1"),
        AsyncVersionedS3Path("/b/k", version_id="v2"),
        VersionedS3Path("/b/k", version_id="v3"),
    ],
)
def test_paths_pickle_to_their_path_and_version_alone(path: PureS3Path) -> None:
    data = pickle.dumps(path)
    copy = pickle.loads(data)
    assert type(copy) is type(path) and copy == path and copy.key == path.key
    assert getattr(copy, "version_id", None) == getattr(path, "version_id", None)
    assert len(data) < 250
    for word in (b"aiobotocore", b"botocore", b"Lock", b"loop"):
        assert word not in data


def test_a_used_path_still_pickles_small(sync_bucket: S3Path) -> None:
    path = sync_bucket / "used"
    path.write_text("x")
    assert path.read_text() == "x"
    assert len(pickle.dumps(path)) < 250


def test_configuration_snapshot_round_trips_through_pickle(s3_server: S3Server) -> None:
    try:
        register_configuration_parameter(
            PureS3Path("/bucket/"),
            parameters={"ServerSideEncryption": "AES256"},
            resource=s3_server.client_settings(),
        )
        snapshot = pickle.loads(pickle.dumps(configuration_map.snapshot()))
        configuration_map.reset()
        assert dict(configuration_map.resolve(PureS3Path("/bucket/k")).parameters) == {}
        snapshot.apply()
        resolved = configuration_map.resolve(PureS3Path("/bucket/k"))
        assert dict(resolved.parameters) == {"ServerSideEncryption": "AES256"}
        assert resolved.settings.endpoint_url == s3_server.endpoint_url
    finally:
        configuration_map.reset()


def test_a_session_registration_refuses_to_travel() -> None:
    from aiobotocore.session import AioSession

    try:
        register_configuration_parameter(PureS3Path("/b/"), resource=AioSession())
        with pytest.raises(ValueError, match="s3://b"):
            configuration_map.snapshot()
    finally:
        configuration_map.reset()


def _read(path: S3Path) -> str:
    return path.read_text()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_process_pool_with_a_configuration_snapshot(sync_bucket: S3Path, method: str) -> None:
    paths = [sync_bucket / f"item-{i}" for i in range(8)]
    for i, path in enumerate(paths):
        path.write_text(str(i))  # the parent has used S3: a loop, a thread and clients exist
    context = multiprocessing.get_context(method)
    snapshot = configuration_map.snapshot()
    with ProcessPoolExecutor(2, mp_context=context, initializer=snapshot.apply) as pool:
        assert list(pool.map(_read, paths)) == [str(i) for i in range(8)]
        # The sync methods themselves pickle, so they can be mapped directly.
        assert list(pool.map(S3Path.read_bytes, paths)) == [str(i).encode() for i in range(8)]


def test_dask_local_cluster_fans_out_over_processes(sync_bucket: S3Path) -> None:
    distributed = pytest.importorskip("distributed")
    sys.path.insert(0, str(EXAMPLES))
    try:
        import dask_fanout

        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            written, results = dask_fanout.fan_out(client, sync_bucket / "fan", 200)
    finally:
        sys.path.remove(str(EXAMPLES))
    assert written == sum(len(f"object {i}\n".encode()) * 10 for i in range(200))
    assert len(results) == 200
    assert len({pid for _, _, pid in results}) == 2  # both worker processes did reads
    keys = sorted(key for key, _, _ in results)
    assert keys[0].endswith("fan/part-00000.txt") and keys[-1].endswith("fan/part-00199.txt")
    assert len(list((sync_bucket / "fan").iterdir())) == 200


def test_interpreter_exit_after_heavy_use_is_prompt_and_quiet(
    s3_server: S3Server, bucket_name: str
) -> None:
    script = f"""
        import asyncio
        from aios3path import AsyncS3Path, PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        root = "/{bucket_name}/exit"

        async def main():
            await asyncio.gather(*(AsyncS3Path(root, f"a{{i}}").write_text("x") for i in range(50)))
            return [p async for p in AsyncS3Path(root).iterdir()]

        print(len(asyncio.run(main())))          # clients of that loop, closed at its end
        loop = asyncio.new_event_loop()          # a loop closed without closing our clients
        loop.run_until_complete(AsyncS3Path(root, "b").write_text("y"))
        loop.close()
        for i in range(50):
            S3Path(root, f"s{{i}}").write_text("z")   # the runner thread and its clients
        print(len(list(S3Path(root).iterdir())))
    """
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["50", "101"]
    assert result.stderr == ""  # no unclosed-session warnings, no tracebacks
    assert elapsed < 20


def test_examples_dask_fanout_is_a_runnable_script() -> None:
    source = (EXAMPLES / "dask_fanout.py").read_text()
    assert 'if __name__ == "__main__":' in source
    compile(source, "dask_fanout.py", "exec")


def _run_exiting(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter (warnings shown); it must exit within a minute."""
    return subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_files_left_open_are_closed_at_exit_like_local_files(
    s3_server: S3Server, bucket_name: str, sync_bucket: S3Path
) -> None:
    """The interpreter used to wait forever for a runner thread a finalizer started at exit."""
    script = f"""
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        root = S3Path("/{bucket_name}")
        (root / "read.txt").write_text("hello")
        reader = (root / "read.txt").open("rb")
        text = (root / "text.txt").open("w")
        text.write("written, never closed")
        raw = (root / "raw.bin").open("wb", buffering=0)
        raw.write(b"raw bytes")
        print("done")
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""
    assert (sync_bucket / "text.txt").read_text() == "written, never closed"
    assert (sync_bucket / "raw.bin").read_bytes() == b"raw bytes"


def test_daemon_threads_still_calling_at_exit_end_quietly(
    s3_server: S3Server, bucket_name: str
) -> None:
    script = f"""
        import threading, time
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        path = S3Path("/{bucket_name}/busy.txt")
        path.write_text("x")

        def spin():
            while True:
                path.read_bytes()
                list(path.parent.iterdir())

        for _ in range(4):
            threading.Thread(target=spin, daemon=True).start()
        time.sleep(0.5)
        print("done")
    """
    started = time.monotonic()
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""  # no CancelledError tracebacks from the daemon threads
    assert time.monotonic() - started < 20


@pytest.fixture
def distant(s3_server: S3Server) -> Iterator[CountingProxy]:
    """A proxy 50 ms away from the test server: exits land in the middle of requests."""
    proxy = CountingProxy(s3_server.endpoint_url, latency=0.05)
    try:
        yield proxy
    finally:
        proxy.close()


def _uploads(boto3_client: Any, bucket: str) -> list[Any]:
    return list(boto3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_the_exit_does_not_wait_on_a_file_a_daemon_thread_is_closing(
    s3_server: S3Server, bucket_name: str, boto3_client: Any, distant: CountingProxy
) -> None:
    """The daemon thread holds the file's lock while it waits for the loop: closing that file
    at exit would wait for it forever. The exit leaves it to the loop's shutdown."""
    settings = dict(s3_server.client_settings(), endpoint_url=distant.url)
    script = f"""
        import os, threading
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={settings!r})
        closing = threading.Event()

        def work():
            f = S3Path("/{bucket_name}/closing").open("wb")
            f.write(os.urandom(12 << 20))
            closing.set()
            f.close()

        threading.Thread(target=work, daemon=True).start()
        closing.wait()
    """
    for _ in range(3):
        result = _run_exiting(script)
        assert result.returncode == 0, result.stderr
    time.sleep(0.5)
    assert _uploads(boto3_client, bucket_name) == []  # completed, or aborted by the exit


@pytest.mark.parametrize("delay", [0.1, 0.13, 0.16, 0.25])
def test_the_exit_aborts_the_multipart_upload_of_a_daemon_threads_write(
    s3_server: S3Server, bucket_name: str, boto3_client: Any, distant: CountingProxy, delay: float
) -> None:
    """Wherever the write is when the interpreter exits (its CreateMultipartUpload on the way,
    or parts), its upload is aborted: the shutdown cancels it while the clients still work,
    and lets a CreateMultipartUpload it needs the answer of finish."""
    settings = dict(s3_server.client_settings(), endpoint_url=distant.url)
    script = f"""
        import os, threading, time
        from aios3path import PureS3Path, S3Path, TransferConfig, register_configuration_parameter
        config = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
        register_configuration_parameter(
            PureS3Path("/"), resource={settings!r}, parameters={{"transfer_config": config}}
        )
        data = os.urandom(12 << 20)
        threading.Thread(
            target=lambda: S3Path("/{bucket_name}/exiting").write_bytes(data), daemon=True
        ).start()
        time.sleep({delay})
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert _uploads(boto3_client, bucket_name) == []


def test_a_call_after_the_exit_shutdown_says_so(s3_server: S3Server, bucket_name: str) -> None:
    """An atexit handler registered before aios3path's runs after its shutdown."""
    script = f"""
        import atexit

        def late():
            from aios3path import S3Path
            try:
                S3Path("/{bucket_name}/late").exists()
            except RuntimeError as error:
                print("late:", error)

        atexit.register(late)
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        print(S3Path("/{bucket_name}/early").exists())
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "False",
        "late: aios3path's background event loop has shut down: the interpreter is exiting",
    ]
    assert result.stderr == ""


def test_a_big_writer_left_open_at_exit_completes_its_object(
    s3_server: S3Server, bucket_name: str, sync_bucket: S3Path
) -> None:
    """Its parts' checksums need worker threads, which concurrent.futures refuses to every
    ThreadPoolExecutor once the main thread has ended: the object used to be lost."""
    script = f"""
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        big = S3Path("/{bucket_name}/big.bin").open("wb")
        big.write(b"x" * (12 << 20))
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (sync_bucket / "big.bin").stat().st_size == 12 << 20


def test_a_thread_outliving_the_main_thread_still_transfers(
    s3_server: S3Server, bucket_name: str, sync_bucket: S3Path, tmp_path: Path
) -> None:
    """A non-daemon thread keeps the interpreter alive after the main thread returned; its big
    writes, uploads and downloads (which use worker threads) work as before."""
    local = tmp_path / "downloaded.txt"
    script = f"""
        import threading, time
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        root = S3Path("/{bucket_name}")
        (root / "small.txt").write_text("hello")
        main = threading.main_thread()

        def later():
            main.join()
            (root / "big.bin").write_bytes(b"x" * (12 << 20))
            (root / "small.txt").download_to({str(local)!r})
            (root / "uploaded.txt").upload_from({str(local)!r})
            print("done", flush=True)

        threading.Thread(target=later).start()
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert (sync_bucket / "big.bin").stat().st_size == 12 << 20
    assert (sync_bucket / "uploaded.txt").read_text() == "hello"


def test_a_daemon_threads_errors_still_raise_after_the_main_thread_ended(
    s3_server: S3Server, bucket_name: str
) -> None:
    """Only calls the exit's shutdown ended are swallowed (the thread waits for the end, as
    daemon threads do); while a non-daemon thread keeps the interpreter running, a missing key
    is FileNotFoundError as ever."""
    script = f"""
        import threading
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        main, checked = threading.main_thread(), threading.Event()
        S3Path("/{bucket_name}/x").exists()  # (3.12+ starts no thread once main has ended)

        def monitor():
            main.join()
            try:
                S3Path("/{bucket_name}/missing").read_text()
            except FileNotFoundError:
                print("FileNotFoundError", flush=True)
            checked.set()

        def worker():
            checked.wait(30)

        threading.Thread(target=monitor, daemon=True).start()
        threading.Thread(target=worker).start()
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "FileNotFoundError\n"


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
def test_a_forked_child_leaves_the_files_of_its_parent_to_the_parent(
    s3_server: S3Server, bucket_name: str, sync_bucket: S3Path
) -> None:
    """The child's exit (a ``with`` block left by ``sys.exit``, then atexit's closing of open
    files) used to wait forever for the parent's loop, and would have completed or aborted the
    parent's upload. The child's copies close without I/O; using them raises ``OSError``."""
    script = f"""
        import os, signal, sys, time
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        register_configuration_parameter(PureS3Path("/"), resource={s3_server.client_settings()!r})
        root = S3Path("/{bucket_name}")
        (root / "source").write_bytes(b"s" * (3 << 20))
        reader = (root / "source").open("rb")
        reader.read(1000)
        left_open = (root / "left-open").open("wb")
        left_open.write(b"L" * (6 << 20))
        with (root / "in-with").open("wb") as written:
            written.write(b"A" * (6 << 20))
            written.flush()
            pid = os.fork()
            if pid == 0:
                try:
                    reader.read(2 << 20)  # past what the parent's buffer holds
                except OSError as error:
                    print("child read:", type(error).__name__, flush=True)
                sys.exit(0)  # leaves the with block, then exits with files open
            for _ in range(200):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
                print("child hung", flush=True)
            written.write(b"B" * (6 << 20))
        left_open.write(b"M")
        left_open.close()
        print("parent read:", len(reader.read()), flush=True)
    """
    result = _run_exiting(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["child read: OSError", f"parent read: {(3 << 20) - 1000}"]
    assert (sync_bucket / "in-with").read_bytes() == b"A" * (6 << 20) + b"B" * (6 << 20)
    assert (sync_bucket / "left-open").stat().st_size == (6 << 20) + 1
