"""S3Path: the synchronous API over the same async core, in scripts, threads, loops and forks."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aios3path import AsyncS3Path, PureS3Path, S3Path, StatResult, VersionedS3Path, _runner
from aios3path._sync import to_async

from ._helpers import keys_of, put


def test_sync_round_trip_and_metadata(sync_bucket: S3Path, boto3_client: Any) -> None:
    path = sync_bucket / "dir" / "file.txt"
    assert path.write_text("hello") == 5
    assert path.read_text() == "hello"
    assert path.read_bytes() == b"hello"
    assert path.exists() and path.is_file()
    assert path.parent.is_dir()
    stat = path.stat()
    assert isinstance(stat, StatResult) and stat.st_size == 5
    assert keys_of(boto3_client, sync_bucket.bucket) == ["dir/file.txt"]


def test_sync_iterdir_yields_sync_paths(sync_bucket: S3Path, boto3_client: Any) -> None:
    for key in ["a/1", "a/2", "a/b/3"]:
        put(boto3_client, sync_bucket.bucket, key, "x")
    children = list((sync_bucket / "a").iterdir())
    assert sorted(p.name for p in children) == ["1", "2", "b"]
    assert all(type(p) is S3Path for p in children)


def test_sync_iteration_can_stop_early(sync_bucket: S3Path, boto3_client: Any) -> None:
    for i in range(3):
        put(boto3_client, sync_bucket.bucket, f"k{i}", "x")
    iterator = sync_bucket.iterdir()
    first = next(iterator)
    iterator.close()  # closing the sync generator closes the async one on the loop
    assert first.name == "k0"


def test_an_abandoned_iterator_collected_on_the_runner_thread_closes_quietly(
    sync_bucket: S3Path, boto3_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The garbage collector finalizes a generator in whichever thread it runs: on the loop's
    own thread, the listing cannot be closed by waiting for that loop."""
    for i in range(3):
        put(boto3_client, sync_bucket.bucket, f"k{i}", "x")
    iterator = sync_bucket.iterdir()
    next(iterator)
    loop = _runner._runner.loop()
    errors: list[BaseException] = []

    def finalize_here() -> None:
        try:
            iterator.close()
        except BaseException as error:  # pragma: no cover - what the test guards against
            errors.append(error)

    asyncio.run_coroutine_threadsafe(_call(finalize_here), loop).result(10)
    assert errors == []
    assert "Exception ignored" not in capsys.readouterr().err
    assert [p.name for p in sync_bucket.iterdir()] == ["k0", "k1", "k2"]  # the loop still works


async def _call(function: Any) -> None:
    function()


def test_sync_methods_keep_docstrings_and_names() -> None:
    assert S3Path.read_text.__name__ == "read_text"
    assert S3Path.exists.__doc__ == AsyncS3Path.exists.__doc__
    assert S3Path.iterdir.__doc__ == AsyncS3Path.iterdir.__doc__


def test_sync_mkdir_touch_unlink_rmdir(sync_bucket: S3Path, boto3_client: Any) -> None:
    (sync_bucket / "d").mkdir()
    (sync_bucket / "d" / "f").touch()
    assert sorted(keys_of(boto3_client, sync_bucket.bucket)) == ["d/", "d/f"]
    (sync_bucket / "d" / "f").unlink()
    (sync_bucket / "d").rmdir()
    assert keys_of(boto3_client, sync_bucket.bucket) == []


def test_sync_errors_are_the_same_types(sync_bucket: S3Path) -> None:
    with pytest.raises(FileNotFoundError):
        (sync_bucket / "missing").read_bytes()
    with pytest.raises(ValueError):
        S3Path("relative/path").read_bytes()


def test_many_threads_at_once(sync_bucket: S3Path) -> None:
    def work(i: int) -> str:
        path = sync_bucket / f"thread-{i}"
        path.write_text(str(i))
        return path.read_text()

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(work, range(64))) == [str(i) for i in range(64)]


def test_works_inside_a_running_event_loop(sync_bucket: S3Path) -> None:
    path = sync_bucket / "from-a-coroutine"

    async def handler() -> str:
        # What a notebook cell or a web handler does: call the sync API inside a loop.
        path.write_text("inside")
        return path.read_text()

    assert asyncio.run(handler()) == "inside"


def test_calling_from_the_runner_loop_raises_instead_of_deadlocking(sync_bucket: S3Path) -> None:
    path = sync_bucket / "x"

    async def on_the_runner() -> None:
        path.exists()

    with pytest.raises(RuntimeError, match="own event loop"):
        _runner.run(on_the_runner())


def test_sync_and_async_paths_convert_and_compare() -> None:
    sync = S3Path("/b/k")
    assert sync == AsyncS3Path("/b/k") == PureS3Path("/b/k")
    assert type(sync / "x") is S3Path
    assert type(sync.parent) is S3Path
    assert pickle.loads(pickle.dumps(sync)) == sync


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
def test_forked_child_after_parent_used_s3(sync_bucket: S3Path) -> None:
    path = sync_bucket / "before-fork"
    path.write_text("parent")
    assert path.read_text() == "parent"  # the runner thread, loop and a client now exist
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a fresh runner, loop and client, no hang
        try:
            (sync_bucket / "from-child").write_text("child")
            os.write(write, path.read_text().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        received = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert received == b"parent"
    assert (sync_bucket / "from-child").read_text() == "child"


def _read_in_worker(path: S3Path) -> str:
    return path.read_text()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_process_pool_workers_read_paths(sync_bucket: S3Path, method: str, s3: Any) -> None:
    paths = [sync_bucket / f"p{i}" for i in range(4)]
    for i, path in enumerate(paths):
        path.write_text(f"value {i}")
    context = multiprocessing.get_context(method)
    from concurrent.futures import ProcessPoolExecutor

    # spawn children import the test module afresh: hand them the registration explicitly.
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=_register, initargs=(s3.client_settings(),)
    ) as pool:
        assert list(pool.map(_read_in_worker, paths)) == [f"value {i}" for i in range(4)]


def _register(settings: dict[str, str]) -> None:
    from aios3path import register_configuration_parameter

    register_configuration_parameter(PureS3Path("/"), resource=settings)


# -- a user's subclass of S3Path ------------------------------------------------------------------


class MyS3Path(S3Path):
    """A user's subclass, with no boilerplate: its methods return its own class."""

    def describe(self) -> str:
        return f"mine: {self.key}"


class MyVersionedS3Path(VersionedS3Path):
    """A user's versioned subclass; listings below it yield ``_plain_class`` paths."""

    _plain_class = MyS3Path


class SessionS3Path(S3Path):
    """A subclass that carries state, as pathlib 3.12+ lets one: the constructor takes it and
    ``with_segments`` hands it to derived paths and to the paths methods return."""

    def __init__(self, *args: str | os.PathLike[str] | PureS3Path, session: str = "none") -> None:
        super().__init__(*args)
        self.session = session

    def with_segments(self, *args: str | os.PathLike[str] | PureS3Path) -> SessionS3Path:
        return type(self)(*args, session=self.session)


def test_a_subclass_gets_its_own_class_back_from_every_method(
    sync_bucket: S3Path, boto3_client: Any
) -> None:
    for key in ["d/a.txt", "d/b.txt", "d/sub/c.txt"]:
        put(boto3_client, sync_bucket.bucket, key, "x")
    base = MyS3Path(sync_bucket, "d")
    returned = {
        "parent": [base.parent],
        "iterdir": list(base.iterdir()),
        "glob": list(base.glob("*.txt")),
        "rglob": list(base.rglob("*.txt")),
        "walk": [top for top, _, _ in base.walk()],
        "rename": [(base / "a.txt").rename(base / "renamed.txt")],
        "replace": [(base / "b.txt").replace(str(base / "replaced.txt"))],
        "copy": [(base / "renamed.txt").copy(base / "copied.txt")],
    }
    assert {name: {type(p) for p in paths} for name, paths in returned.items()} == {
        name: {MyS3Path} for name in returned
    }
    assert returned["rename"][0].describe() == "mine: d/renamed.txt"
    assert sorted(p.name for p in returned["iterdir"]) == ["a.txt", "b.txt", "sub"]


def test_the_async_twin_of_a_subclass_is_an_async_s3path_made_once() -> None:
    twin = to_async(MyS3Path("/b/k"))
    assert isinstance(twin, AsyncS3Path) and type(twin) is not AsyncS3Path
    assert type(to_async(MyS3Path("/b/other"))) is type(twin)
    assert type(to_async(S3Path("/b/k"))) is AsyncS3Path  # the library's own classes: unchanged


def test_a_subclass_and_its_async_twin_pickle(sync_bucket: S3Path, boto3_client: Any) -> None:
    put(boto3_client, sync_bucket.bucket, "k", "value")
    path = MyS3Path(sync_bucket, "k")
    clone = pickle.loads(pickle.dumps(path))
    assert (type(clone), clone) == (MyS3Path, path)
    assert clone.read_text() == "value"
    (child,) = MyS3Path(sync_bucket).iterdir()
    assert type(pickle.loads(pickle.dumps(child))) is MyS3Path
    twin = to_async(path)
    assert pickle.loads(pickle.dumps(twin)) == twin
    assert type(pickle.loads(pickle.dumps(twin))) is type(twin)


def test_a_subclass_that_carries_state_hands_it_to_what_its_methods_return(
    sync_bucket: S3Path, boto3_client: Any
) -> None:
    for key in ["d/a.txt", "d/sub/b.txt"]:
        put(boto3_client, sync_bucket.bucket, key, "x")
    base = SessionS3Path(sync_bucket, "d", session="S")
    returned = [
        base.parent,
        base / "x",
        *base.iterdir(),
        *base.glob("**/*.txt"),
        *(top for top, _, _ in base.walk()),
        (base / "a.txt").rename(base / "moved.txt"),
    ]
    assert {(type(p), p.session) for p in returned} == {(SessionS3Path, "S")}
    # A path made without another (here: from a URI) gets the constructor's default.
    assert SessionS3Path.from_uri(base.as_uri()).session == "none"


@pytest.mark.needs("versioning")
def test_a_versioned_subclass_reads_its_version_and_lists_its_plain_class(
    sync_bucket: S3Path, boto3_client: Any
) -> None:
    boto3_client.put_bucket_versioning(
        Bucket=sync_bucket.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = boto3_client.put_object(Bucket=sync_bucket.bucket, Key="d/k", Body=b"v1")
    put(boto3_client, sync_bucket.bucket, "d/k", "v2")
    version = MyVersionedS3Path(sync_bucket, "d", "k", version_id=first["VersionId"])
    assert version.read_text() == "v1"
    assert type(version.parent) is MyVersionedS3Path
    assert [type(p) for p in version.parent.iterdir()] == [MyS3Path]
    assert {type(v) for v in MyS3Path(sync_bucket, "d", "k").iter_versions()} == {VersionedS3Path}
