"""register_configuration_parameter: per-prefix parameters, endpoints and credentials."""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aiobotocore.session import AioSession

import aios3path
from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3Path,
    TransferConfig,
    _pool,
    configuration_map,
    register_configuration_parameter,
)
from aios3path.testing import MotoServer, S3Server

from ._helpers import keys_of, new_bucket_name, put
from ._proxy import CountingProxy


@pytest.fixture(scope="module")
def second_server() -> Iterator[S3Server]:
    """Another S3 server process, standing for a MinIO or LocalStack next to AWS."""
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- validation ---------------------------------------------------------------------------


def test_registration_checks_its_arguments() -> None:
    with pytest.raises(TypeError):
        register_configuration_parameter("/bucket", parameters={})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        register_configuration_parameter(PureS3Path("/b"), parameters=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        register_configuration_parameter(PureS3Path("/b"))
    with pytest.raises(ValueError, match="absolute"):
        register_configuration_parameter(PureS3Path("relative"), parameters={})
    with pytest.raises(ValueError, match="endpoint"):
        register_configuration_parameter(PureS3Path("/b"), resource={"endpoint": "http://x"})
    with pytest.raises(TypeError, match="resource"):
        register_configuration_parameter(PureS3Path("/b"), resource=42)


def test_glob_new_algorithm_is_accepted_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning):
        register_configuration_parameter(PureS3Path("/b"), glob_new_algorithm=True)
    configuration_map.reset()


# -- resolution ---------------------------------------------------------------------------


def test_nearest_prefix_wins_for_each_setting_independently() -> None:
    configuration_map.reset()
    try:
        register_configuration_parameter(
            PureS3Path("/"), parameters={"StorageClass": "STANDARD"}, resource={"region_name": "a"}
        )
        register_configuration_parameter(
            PureS3Path("/bucket/"), parameters={"ServerSideEncryption": "AES256"}
        )
        register_configuration_parameter(
            PureS3Path("/bucket/logs/"), resource={"region_name": "logs"}
        )
        deep = configuration_map.resolve(PureS3Path("/bucket/logs/2024/x"))
        assert deep.settings.region_name == "logs"
        assert dict(deep.parameters) == {"ServerSideEncryption": "AES256"}
        sibling = configuration_map.resolve(PureS3Path("/bucket/logs2/x"))
        assert sibling.settings.region_name == "a"  # a look-alike prefix does not inherit
        other = configuration_map.resolve(PureS3Path("/other/x"))
        assert dict(other.parameters) == {"StorageClass": "STANDARD"}
        settings, parameters = configuration_map.get_configuration(PureS3Path("/bucket"))
        assert settings.region_name == "a"
        assert dict(parameters) == {"ServerSideEncryption": "AES256"}
    finally:
        configuration_map.reset()


def test_reset_returns_to_environment_defaults() -> None:
    register_configuration_parameter(PureS3Path("/"), resource={"region_name": "x"})
    configuration_map.reset()
    resolved = configuration_map.resolve(PureS3Path("/b/k"))
    assert resolved.settings.region_name is None
    assert dict(resolved.parameters) == {}


def test_transfer_and_callback_keys_are_not_sent_to_s3() -> None:
    class Progress:
        def __init__(self, path: Any) -> None: ...

    try:
        register_configuration_parameter(
            PureS3Path("/b/"),
            parameters={
                "transfert_config": TransferConfig(max_concurrency=3),
                "callback_class": Progress,
                "ACL": "private",
            },
        )
        resolved = configuration_map.resolve(PureS3Path("/b/k"))
        assert dict(resolved.parameters) == {"ACL": "private"}
        assert resolved.transfer_config == TransferConfig(max_concurrency=3)
        assert resolved.callback_class is Progress
    finally:
        configuration_map.reset()


@pytest.mark.parametrize(
    "settings",
    [
        {"transfer_config": TransferConfig(max_concurrency=3)},
        {"callback_class": object},
        {"lean_requests": False},
    ],
    ids=["transfer_config", "callback_class", "lean_requests"],
)
def test_registering_only_other_settings_keeps_the_s3_parameters(settings: dict[str, Any]) -> None:
    """Encryption registered above (or here before) survives a prefix that only tunes transfers."""
    try:
        register_configuration_parameter(
            PureS3Path("/"), parameters={"ServerSideEncryption": "AES256"}
        )
        register_configuration_parameter(PureS3Path("/b/"), parameters=settings)
        assert dict(configuration_map.resolve(PureS3Path("/b/k")).parameters) == {
            "ServerSideEncryption": "AES256"
        }
        register_configuration_parameter(PureS3Path("/b/enc/"), parameters={"StorageClass": "X"})
        register_configuration_parameter(PureS3Path("/b/enc/"), parameters=settings)
        assert dict(configuration_map.resolve(PureS3Path("/b/enc/k")).parameters) == {
            "StorageClass": "X"
        }
        # An empty mapping is a registration of no parameters: nothing is inherited past it.
        register_configuration_parameter(PureS3Path("/b/plain/"), parameters={})
        assert dict(configuration_map.resolve(PureS3Path("/b/plain/k")).parameters) == {}
    finally:
        configuration_map.reset()


class Progress:
    """A progress callback class (module level: it travels to other processes by name)."""

    def __init__(self, path: Any) -> None: ...

    def __call__(self, amount: int) -> None: ...


def test_a_callback_class_can_be_switched_off_here_or_below() -> None:
    try:
        register_configuration_parameter(PureS3Path("/b/"), parameters={"callback_class": Progress})
        register_configuration_parameter(
            PureS3Path("/b/quiet/"), parameters={"callback_class": None}
        )
        assert configuration_map.resolve(PureS3Path("/b/k")).callback_class is Progress
        assert configuration_map.resolve(PureS3Path("/b/quiet/k")).callback_class is None
        travelled = pickle.loads(pickle.dumps(configuration_map.snapshot()))
        configuration_map.reset()
        travelled.apply()  # as in a worker process
        assert configuration_map.resolve(PureS3Path("/b/quiet/k")).callback_class is None
        assert configuration_map.resolve(PureS3Path("/b/k")).callback_class is Progress
        register_configuration_parameter(PureS3Path("/b/"), parameters={"callback_class": None})
        assert configuration_map.resolve(PureS3Path("/b/k")).callback_class is None
        with pytest.raises(TypeError, match="callable"):
            register_configuration_parameter(PureS3Path("/b/"), parameters={"callback_class": 3})
    finally:
        configuration_map.reset()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"max_concurrency": 0}, "TransferConfig.max_concurrency must be a positive int, got 0"),
        ({"multipart_chunksize": "8MB"}, "TransferConfig.multipart_chunksize must be a positive"),
        ({"read_ahead": -1}, "TransferConfig.read_ahead must be None or >= 0, got -1"),
        ({"read_ahead": 1.5}, "TransferConfig.read_ahead must be None or >= 0, got 1.5"),
    ],
)
def test_transfer_settings_out_of_range_raise_value_error_naming_them(
    setting: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TransferConfig(**setting)


def test_read_ahead_defaults_to_streaming_and_takes_none_or_counts() -> None:
    assert TransferConfig().read_ahead == 0
    assert TransferConfig(read_ahead=None).read_ahead is None  # judge the stream
    assert TransferConfig(read_ahead=3).read_ahead == 3


# -- parameters reach the requests they belong to -----------------------------------------


@pytest.mark.needs("storage-class")
async def test_parameters_reach_writes_under_their_prefix_only(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket, "reports/"),
        parameters={
            "ServerSideEncryption": "AES256",
            "StorageClass": "STANDARD_IA",
            "ContentType": "text/csv",
            "Metadata": {"team": "data"},
        },
    )
    await (bucket / "reports" / "q1.csv").write_text("a,b\n")
    await (bucket / "other.csv").write_text("a,b\n")
    head = boto3_client.head_object(Bucket=bucket.bucket, Key="reports/q1.csv")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"] == {"team": "data"}
    plain = boto3_client.head_object(Bucket=bucket.bucket, Key="other.csv")
    assert "ServerSideEncryption" not in plain and plain["Metadata"] == {}
    # Reads ignore write-only parameters instead of failing on them.
    assert await (bucket / "reports" / "q1.csv").read_text() == "a,b\n"
    stat = await (bucket / "reports" / "q1.csv").stat()
    assert stat is not None and stat.content_type == "text/csv"
    assert stat.metadata == {"team": "data"}


@pytest.mark.needs("marker-metadata")
async def test_parameters_reach_touch_and_mkdir_markers(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"Metadata": {"origin": "aios3path"}}
    )
    await (bucket / "empty").touch()
    await (bucket / "dir").mkdir()
    for key in ("empty", "dir/"):
        assert boto3_client.head_object(Bucket=bucket.bucket, Key=key)["Metadata"] == {
            "origin": "aios3path"
        }


# -- where a prefix is served from --------------------------------------------------------


async def test_a_bucket_can_be_served_by_another_endpoint(
    s3: S3Server, second_server: S3Server, boto3_client: Any
) -> None:
    local_name, remote_name = new_bucket_name(), new_bucket_name()
    boto3_client.create_bucket(Bucket=local_name)
    remote_client = boto3.client("s3", **second_server.client_settings())
    remote_client.create_bucket(Bucket=remote_name)
    register_configuration_parameter(
        PureS3Path("/", remote_name), resource=second_server.client_settings()
    )
    await AsyncS3Path("/", remote_name, "k").write_text("remote")
    await AsyncS3Path("/", local_name, "k").write_text("local")
    assert keys_of(remote_client, remote_name) == ["k"]
    assert keys_of(boto3_client, local_name) == ["k"]
    assert S3Path("/", remote_name, "k").read_text() == "remote"


async def test_re_registering_takes_effect_for_the_next_call(
    s3: S3Server, second_server: S3Server, boto3_client: Any
) -> None:
    name = new_bucket_name()
    boto3_client.create_bucket(Bucket=name)
    remote_client = boto3.client("s3", **second_server.client_settings())
    remote_client.create_bucket(Bucket=name)
    path = AsyncS3Path("/", name, "k")
    await path.write_text("first")
    register_configuration_parameter(
        PureS3Path("/", name), resource=second_server.client_settings()
    )
    await path.write_text("second")
    assert boto3_client.get_object(Bucket=name, Key="k")["Body"].read() == b"first"
    assert remote_client.get_object(Bucket=name, Key="k")["Body"].read() == b"second"


async def test_registering_a_resource_again_closes_the_old_client_once_unused(
    s3_server: S3Server, bucket: AsyncS3Path, boto3_client: Any
) -> None:
    """A service that re-registers (rotating credentials, say) does not pile up clients and
    their connections; a file still open on the old settings keeps working until closed."""
    put(boto3_client, bucket.bucket, "big", "x" * 100_000)
    register_configuration_parameter(bucket, resource=dict(s3_server.client_settings()))
    reader = await (bucket / "big").open("rb")
    first = await reader.read(10)
    for _ in range(20):
        register_configuration_parameter(bucket, resource=dict(s3_server.client_settings()))
        assert not await (bucket / "missing").exists()
    gc.collect()
    await asyncio.sleep(0.1)  # the old clients close in tasks of their own
    pool = _pool._pools[asyncio.get_running_loop()]
    # The environment's and test's own, the newest registration's, the open file's: no more.
    assert len(pool.live) <= 4
    assert first + await reader.read() == b"x" * 100_000
    await reader.close()
    del reader
    gc.collect()
    await asyncio.sleep(0.1)
    assert len(pool.live) <= 3


async def test_a_boto3_resource_is_accepted(
    s3_server: S3Server, bucket_name: str, boto3_client: Any
) -> None:
    resource = boto3.resource("s3", **s3_server.client_settings())
    configuration_map.reset()
    register_configuration_parameter(PureS3Path("/"), resource=resource)
    await AsyncS3Path("/", bucket_name, "via-resource").write_text("ok")
    assert keys_of(boto3_client, bucket_name) == ["via-resource"]


@pytest.mark.needs("any-credentials")
async def test_a_boto3_resource_credentials_sign_the_requests(
    s3_server: S3Server, bucket_name: str, counter: CountingProxy
) -> None:
    settings = dict(s3_server.client_settings(), endpoint_url=counter.url)
    settings["aws_access_key_id"] = "AKIDFROMRESOURCE"
    register_configuration_parameter(PureS3Path("/"), resource=boto3.resource("s3", **settings))
    await AsyncS3Path("/", bucket_name, "k").write_text("x")
    assert [r.access_key for r in counter.requests] == ["AKIDFROMRESOURCE"]


@pytest.mark.needs("any-credentials")
async def test_an_aiobotocore_session_is_accepted(
    s3_server: S3Server, bucket_name: str, counter: CountingProxy, monkeypatch: Any
) -> None:
    session = AioSession()
    session.set_credentials("AKIDFROMSESSION", "secret")
    session.set_config_variable("region", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", counter.url)
    configuration_map.reset()
    register_configuration_parameter(PureS3Path("/"), resource=session)
    await AsyncS3Path("/", bucket_name, "k").write_text("x")
    assert [r.access_key for r in counter.requests] == ["AKIDFROMSESSION"]


class _SessionHolder:
    """What an aioboto3.Session looks like to us: an object holding an aiobotocore session."""

    def __init__(self, session: AioSession) -> None:
        self._session = session


@pytest.mark.needs("any-credentials")
async def test_an_aioboto3_style_session_is_accepted(
    bucket_name: str, counter: CountingProxy, monkeypatch: Any
) -> None:
    session = AioSession()
    session.set_credentials("AKIDFROMAIOBOTO3", "secret")
    session.set_config_variable("region", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", counter.url)
    configuration_map.reset()
    register_configuration_parameter(PureS3Path("/"), resource=_SessionHolder(session))
    await AsyncS3Path("/", bucket_name, "k").write_text("x")
    assert [r.access_key for r in counter.requests] == ["AKIDFROMAIOBOTO3"]


@pytest.mark.needs("any-credentials")
async def test_setup_default_session_serves_unregistered_paths(
    s3_server: S3Server, bucket_name: str, counter: CountingProxy
) -> None:
    configuration_map.reset()
    aios3path.setup_default_session(
        aws_access_key_id="AKIDDEFAULT",
        aws_secret_access_key="secret",
        region_name="us-east-1",
        endpoint_url=counter.url,
    )
    await AsyncS3Path("/", bucket_name, "k").write_text("x")
    assert [r.access_key for r in counter.requests] == ["AKIDDEFAULT"]


def _run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_environment_configuration_without_registration(
    s3_server: S3Server, bucket_name: str, boto3_client: Any
) -> None:
    result = _run_script(
        f"""
        from aios3path import S3Path
        S3Path("/{bucket_name}/from-env").write_text("env")
        print(S3Path("/{bucket_name}/from-env").read_text())
        """,
        {
            "AWS_ENDPOINT_URL": s3_server.endpoint_url,
            "AWS_ACCESS_KEY_ID": s3_server.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": s3_server.aws_secret_access_key,
            "AWS_DEFAULT_REGION": s3_server.region_name,
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "env"
    assert result.stderr == ""
    assert keys_of(boto3_client, bucket_name) == ["from-env"]


@pytest.mark.needs("any-credentials")
def test_boto3_setup_default_session_is_honoured(
    s3_server: S3Server, bucket_name: str, counter: CountingProxy
) -> None:
    result = _run_script(
        f"""
        import boto3
        from aios3path import S3Path
        boto3.setup_default_session(
            aws_access_key_id="AKIDBOTO3DEFAULT", aws_secret_access_key="s", region_name="us-east-1"
        )
        S3Path("/{bucket_name}/k").write_text("x")
        """,
        {"AWS_ENDPOINT_URL": counter.url},
    )
    assert result.returncode == 0, result.stderr
    assert [r.access_key for r in counter.requests] == ["AKIDBOTO3DEFAULT"]


@pytest.mark.parametrize("how", ["resource=session", "setup_default_session"])
def test_a_boto3_sessions_profile_brings_its_endpoint(
    s3_server: S3Server, bucket_name: str, tmp_path: Any, how: str
) -> None:
    """The profile's endpoint_url (from ~/.aws/config) serves the paths, as it serves the
    session's own boto3 clients; not only its credentials and region."""
    config = tmp_path / "config"
    config.write_text(
        "[profile local]\n"
        f"region = {s3_server.region_name}\n"
        f"endpoint_url = {s3_server.endpoint_url}\n"
        f"aws_access_key_id = {s3_server.aws_access_key_id}\n"
        f"aws_secret_access_key = {s3_server.aws_secret_access_key}\n"
    )
    register = (
        "register_configuration_parameter(PureS3Path('/'), resource=boto3.Session("
        "profile_name='local'))"
        if how == "resource=session"
        else "boto3.setup_default_session(profile_name='local')"
    )
    result = _run_script(
        f"""
        import boto3
        from aios3path import PureS3Path, S3Path, register_configuration_parameter
        {register}
        S3Path("/{bucket_name}/profiled").write_text("via the profile")
        print(S3Path("/{bucket_name}/profiled").read_text())
        """,
        {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "via the profile"


def test_a_boto3_clients_tls_verification_is_kept(s3_server: S3Server) -> None:
    for verify in (False, "/path/to/ca-bundle.pem"):
        client = boto3.client("s3", verify=verify, **s3_server.client_settings())
        settings = aios3path._config.settings_from_resource(client)
        assert settings.client_kwargs()["verify"] == verify
        assert (
            aios3path._config.settings_from_resource(
                boto3.resource("s3", verify=verify, **s3_server.client_settings())
            ).verify
            == verify
        )


def test_objects_made_by_boto3_are_read_by_aios3path(
    sync_bucket: S3Path, boto3_client: Any
) -> None:
    put(boto3_client, sync_bucket.bucket, "made/by/boto3", "hello")
    assert (sync_bucket / "made" / "by" / "boto3").read_text() == "hello"


async def test_a_write_can_set_content_type_and_metadata(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Any
) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"Metadata": {"team": "registered"}}
    )
    path = bucket / "page.html"
    await path.write_text("<p>hi</p>", content_type="text/html", metadata={"author": "me"})
    head = boto3_client.head_object(Bucket=bucket.bucket, Key="page.html")
    assert head["ContentType"] == "text/html"
    assert head["Metadata"] == {"author": "me"}  # this write's metadata replaces the default
    stat = await path.stat()
    assert stat is not None and stat.metadata == {"author": "me"}
    local = tmp_path / "data.json"
    local.write_text("{}")
    S3Path(bucket / "data.json").upload_from(local, content_type="application/json")
    assert boto3_client.head_object(Bucket=bucket.bucket, Key="data.json")["ContentType"] == (
        "application/json"
    )
    await (bucket / "plain").write_bytes(b"x")
    plain = boto3_client.head_object(Bucket=bucket.bucket, Key="plain")
    assert plain["Metadata"] == {"team": "registered"}


def test_resolution_follows_every_kind_of_change() -> None:
    try:
        path, prefix = PureS3Path("/bucket/deep/er/key"), PureS3Path("/bucket/deep/er/")

        def region(p: PureS3Path = path) -> str | None:
            return configuration_map.resolve(p).settings.region_name

        assert region() is None
        register_configuration_parameter(prefix, resource={"region_name": "a"})
        assert region() == "a"
        snapshot = configuration_map.snapshot()
        configuration_map.reset()
        assert region() is None
        snapshot.apply()
        assert region() == "a"
        register_configuration_parameter(prefix, resource={"region_name": "b"})
        assert region() == "b"
        assert region(PureS3Path("/bucket/deep/other")) is None
    finally:
        configuration_map.reset()
