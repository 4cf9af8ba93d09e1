"""The prefix registry: which endpoint, credentials and request parameters serve a path.

``register_configuration_parameter(PureS3Path("/bucket/prefix/"), ...)`` stores settings for a
prefix; a path takes, for each setting independently, the one registered nearest above it
(``/`` holds the defaults). With no registration at all, configuration comes from the
environment and the AWS config files, as boto3 does, or from a default session set with
:func:`setup_default_session` (or boto3's own ``boto3.setup_default_session``).
"""

from __future__ import annotations

import enum
import sys
import threading
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ._pure import PureS3Path
from ._transfer_config import DEFAULT_TRANSFER_CONFIG, TransferConfig, as_transfer_config

_CLIENT_SETTING_KEYS = frozenset(
    {
        "endpoint_url",
        "region_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_account_id",
        "config",
        "verify",
        "use_ssl",
        "profile_name",
    }
)

#: Keys of ``parameters`` that configure transfers instead of being sent to S3.
TRANSFER_CONFIG_KEYS = ("transfer_config", "transfert_config")
CALLBACK_CLASS_KEY = "callback_class"
LEAN_PATH_KEY = "lean_requests"
_SPECIAL_KEYS = frozenset((*TRANSFER_CONFIG_KEYS, CALLBACK_CLASS_KEY, LEAN_PATH_KEY))


@dataclass(frozen=True, eq=False)
class ClientSettings:
    """Where requests for a prefix go and with which credentials.

    Instances compare by identity: each registration makes a new one, and the client pool keeps
    one client per (event loop, settings).
    """

    endpoint_url: str | None = None
    region_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    aws_account_id: str | None = None
    config: Any = None
    verify: bool | str | None = None
    use_ssl: bool = True
    profile_name: str | None = None
    #: An aiobotocore session (or the one inside an aioboto3 session) handed in by the user.
    aio_session: Any = None
    #: A synchronous botocore session (boto3's default session) whose credentials are used.
    botocore_session: Any = None
    #: Synchronous botocore credentials (from a boto3 resource), refreshed off the event loop.
    sync_credentials: Any = None
    #: What the settings were made from, for messages.
    source: str = "environment"

    def endpoint_identity(self) -> tuple[Any, ...]:
        """What decides where requests go and as whom: equal for settings that reach the same
        store with the same credentials (then copies between them can stay server-side)."""
        config = getattr(self.config, "_user_provided_options", None)
        return (
            self.endpoint_url,
            self.region_name,
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.aws_session_token,
            self.verify,
            self.use_ssl,
            self.profile_name,
            repr(sorted(config.items())) if config else None,
            id(self.aio_session),
            id(self.botocore_session),
            id(self.sync_credentials),
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``AioSession.create_client("s3", ...)`` (config excluded)."""
        kwargs: dict[str, Any] = {"use_ssl": self.use_ssl}
        for name in (
            "endpoint_url",
            "region_name",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "aws_account_id",
            "verify",
        ):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs


@dataclass(frozen=True)
class Resolved:
    """Everything the registry says about one path."""

    settings: ClientSettings
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    transfer_config: TransferConfig = field(default_factory=TransferConfig)
    callback_class: Any = None
    lean_requests: bool = True


class _Off(enum.Enum):
    """A registered "none": it stops the search for a setting at this prefix (pickles as itself)."""

    NO_CALLBACK = "no callback"


@dataclass(frozen=True)
class _Registration:
    settings: ClientSettings | None = None
    parameters: Mapping[str, Any] | None = None
    transfer_config: TransferConfig | None = None
    callback_class: Any = None
    lean_requests: bool | None = None


def _is_default_aws_endpoint(url: str | None) -> bool:
    if not url:
        return True
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.endswith(".amazonaws.com") or host == "amazonaws.com"


def settings_from_resource(resource: Any) -> ClientSettings:
    """Client settings from what users pass as ``resource=``.

    Accepted: a mapping of client settings (``endpoint_url``, ``region_name``,
    ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``, ``config``,
    ``verify``, ``profile_name``), a boto3 S3 resource or client (its endpoint, region, config and
    credentials are read without any request), a boto3 session, an aiobotocore session or an
    aioboto3 session.
    """
    if isinstance(resource, ClientSettings):
        return resource
    if isinstance(resource, Mapping):
        unknown = set(resource) - _CLIENT_SETTING_KEYS
        if unknown:
            raise ValueError(
                f"unknown client setting(s) {sorted(unknown)}; "
                f"expected some of {sorted(_CLIENT_SETTING_KEYS)}"
            )
        return ClientSettings(**dict(resource), source="mapping")
    from aiobotocore.session import AioSession

    if isinstance(resource, AioSession):
        return ClientSettings(aio_session=resource, source="aiobotocore session")
    inner = getattr(resource, "_session", None)
    if isinstance(inner, AioSession):  # an aioboto3.Session
        return ClientSettings(aio_session=inner, source="aioboto3 session")
    meta = getattr(resource, "meta", None)
    client = getattr(meta, "client", resource) if meta is not None else None
    client_meta = getattr(client, "meta", None)
    if client_meta is not None and hasattr(client_meta, "endpoint_url"):
        endpoint = client_meta.endpoint_url
        signer = getattr(client, "_request_signer", None)
        # TLS verification as the client does it (``verify=False`` or a CA bundle's path).
        verify = getattr(
            getattr(getattr(client, "_endpoint", None), "http_session", None), "_verify", None
        )
        return ClientSettings(
            endpoint_url=None if _is_default_aws_endpoint(endpoint) else endpoint,
            region_name=client_meta.region_name,
            config=client_meta.config,
            sync_credentials=getattr(signer, "_credentials", None),
            verify=None if verify is True else verify,
            source="boto3 resource",
        )
    if inner is not None and hasattr(inner, "get_credentials"):  # a boto3.Session
        # Its profile brings the rest of its configuration (endpoint_url, addressing style,
        # retries…) to the client made for it, as its own clients have it.
        return ClientSettings(
            botocore_session=inner,
            region_name=getattr(resource, "region_name", None),
            profile_name=getattr(inner, "profile", None),
            source="boto3 session",
        )
    raise TypeError(
        "resource must be a boto3 S3 resource or client, a mapping of client settings, "
        f"a boto3/aioboto3/aiobotocore session, not {type(resource).__name__!r}"
    )


class ConfigurationMap:
    """The registry behind :func:`register_configuration_parameter` (``configuration_map``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registrations: dict[tuple[str, ...], _Registration] = {}
        self._default_override: ClientSettings | None = None
        self._environment_default: ClientSettings | None = None
        self._boto3_default: tuple[object, ClientSettings] | None = None
        #: Incremented on every change; caches elsewhere compare it.
        self.generation = 0
        #: The token of the snapshot last restored (so re-applying it costs nothing).
        self.applied_snapshot: str | None = None
        #: Resolutions by the first ``_depth`` segments of a path (all that can matter: no
        #: registration is deeper), for the current generation.
        self._cache: dict[object, object] = {}
        self._depth = 0

    # -- registration ---------------------------------------------------------------------

    def set_configuration(
        self,
        path: PureS3Path,
        *,
        resource: Any = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        """Register ``resource`` and/or S3 ``arguments`` (parameters) for ``path``'s prefix."""
        if not path.is_absolute():
            raise ValueError(f"configuration path must be absolute, got {str(path)!r}")
        settings = settings_from_resource(resource) if resource is not None else None
        s3_parameters: dict[str, Any] | None = None
        transfer_config = callback_class = lean = None
        if arguments is not None:
            s3_parameters = {k: v for k, v in arguments.items() if k not in _SPECIAL_KEYS}
            if not s3_parameters and _SPECIAL_KEYS.intersection(arguments):
                # Only settings that are not S3 parameters: the S3 parameters stay as they
                # were (inherited or registered before). ``parameters={}`` does clear them.
                s3_parameters = None
            for key in TRANSFER_CONFIG_KEYS:
                if key in arguments:
                    transfer_config = as_transfer_config(arguments[key])
            if CALLBACK_CLASS_KEY in arguments:
                callback_class = arguments[CALLBACK_CLASS_KEY]
                if callback_class is None:  # switched off here (and below)
                    callback_class = _Off.NO_CALLBACK
                elif not callable(callback_class):
                    raise TypeError(f"{CALLBACK_CLASS_KEY} must be callable (a class) or None")
            if LEAN_PATH_KEY in arguments:
                lean = bool(arguments[LEAN_PATH_KEY])
        with self._lock:
            registrations = dict(self._registrations)
            old = registrations.get(path._parts, _Registration())
            registrations[path._parts] = _Registration(
                settings=settings if settings is not None else old.settings,
                parameters=(
                    MappingProxyType(s3_parameters) if s3_parameters is not None else old.parameters
                ),
                transfer_config=(
                    transfer_config if transfer_config is not None else old.transfer_config
                ),
                callback_class=callback_class if callback_class is not None else old.callback_class,
                lean_requests=lean if lean is not None else old.lean_requests,
            )
            self._registrations = registrations
            self._depth = max(map(len, registrations), default=0)
            self.generation += 1

    def reset(self) -> None:
        """Drop every registration and default session: back to environment defaults."""
        with self._lock:
            self._registrations = {}
            self._depth = 0
            self._default_override = None
            self._environment_default = None
            self._boto3_default = None
            self.applied_snapshot = None
            self.generation += 1

    def set_default_settings(self, settings: ClientSettings | None) -> None:
        """Make ``settings`` serve every path without a registered resource."""
        with self._lock:
            self._default_override = settings
            self.generation += 1

    # -- travelling to other processes ----------------------------------------------------

    def snapshot(self) -> ConfigurationSnapshot:
        """A picklable copy of every registration, for worker processes.

        Send it to workers (a ``ProcessPoolExecutor`` initializer, a Dask worker plugin, a task
        argument) and call :meth:`ConfigurationSnapshot.apply` there. Forked workers inherit
        the registrations without it; spawned ones (the default of Dask, and of
        multiprocessing on macOS and Windows) start empty.

        Registrations made from live objects travel as what they resolve to: a boto3 resource
        as its endpoint, region, config and (static) keys. A session object, or credentials
        that refresh, cannot travel: ``ValueError`` names the prefix; register a mapping of
        settings there, or let workers find credentials in their environment.
        """
        with self._lock:
            registrations = dict(self._registrations)
            default = self._default_override
        items = []
        for parts, reg in registrations.items():
            where = "s3://" + "/".join(parts)
            items.append(
                (
                    parts,
                    _Registration(
                        settings=_portable(reg.settings, where) if reg.settings else None,
                        parameters=dict(reg.parameters) if reg.parameters is not None else None,
                        transfer_config=reg.transfer_config,
                        callback_class=reg.callback_class,
                        lean_requests=reg.lean_requests,
                    ),
                )
            )
        return ConfigurationSnapshot(
            tuple(items), _portable(default, "the default session") if default else None
        )

    def restore(self, snapshot: ConfigurationSnapshot) -> None:
        """Replace every registration with those of ``snapshot`` (see :meth:`snapshot`)."""
        registrations = {
            parts: replace(
                reg,
                parameters=(
                    MappingProxyType(dict(reg.parameters)) if reg.parameters is not None else None
                ),
            )
            for parts, reg in snapshot.registrations
        }
        with self._lock:
            self._registrations = registrations
            self._depth = max(map(len, registrations), default=0)
            self._default_override = snapshot.default
            self.applied_snapshot = snapshot.token
            self.generation += 1

    # -- resolution -----------------------------------------------------------------------

    def default_settings(self) -> ClientSettings:
        """The settings of paths with no registered resource."""
        if self._default_override is not None:
            return self._default_override
        boto3 = sys.modules.get("boto3")
        boto3_session = getattr(boto3, "DEFAULT_SESSION", None)
        if boto3_session is not None:
            cached = self._boto3_default
            if cached is None or cached[0] is not boto3_session:
                cached = (boto3_session, settings_from_resource(boto3_session))
                self._boto3_default = cached
            return cached[1]
        if self._environment_default is None:
            self._environment_default = ClientSettings()
        return self._environment_default

    def resolve(self, path: PureS3Path) -> Resolved:
        """The nearest registered value of each setting for ``path`` (cached per prefix)."""
        boto3 = sys.modules.get("boto3")
        boto3_session = getattr(boto3, "DEFAULT_SESSION", None)
        cache = self._cache
        if cache.get(_CACHE_OWNER) != (self.generation, id(boto3_session)):
            cache.clear()
            cache[_CACHE_OWNER] = (self.generation, id(boto3_session))
        key = path._parts[: self._depth]
        resolved = cache.get(key)
        if resolved is None:
            resolved = self._resolve(path)
            if len(cache) > _CACHE_SIZE:
                cache.clear()
                cache[_CACHE_OWNER] = (self.generation, id(boto3_session))
            cache[key] = resolved
        return resolved  # type: ignore[return-value]

    def _resolve(self, path: PureS3Path) -> Resolved:
        parts = path._parts
        registrations = self._registrations
        settings = parameters = transfer = callback = lean = None
        if registrations:
            for n in range(len(parts), -1, -1):
                reg = registrations.get(parts[:n])
                if reg is None:
                    continue
                settings = settings if settings is not None else reg.settings
                parameters = parameters if parameters is not None else reg.parameters
                transfer = transfer if transfer is not None else reg.transfer_config
                callback = callback if callback is not None else reg.callback_class
                lean = lean if lean is not None else reg.lean_requests
        return Resolved(
            settings=settings or self.default_settings(),
            parameters=parameters if parameters is not None else MappingProxyType({}),
            transfer_config=transfer or DEFAULT_TRANSFER_CONFIG,
            callback_class=None if callback is _Off.NO_CALLBACK else callback,
            lean_requests=True if lean is None else lean,
        )

    def get_configuration(self, path: PureS3Path) -> tuple[ClientSettings, Mapping[str, Any]]:
        """``(client settings, S3 parameters)`` for ``path``, as s3path's map returns."""
        resolved = self.resolve(path)
        return resolved.settings, resolved.parameters


def _portable(settings: ClientSettings, where: str) -> ClientSettings:
    """``settings`` without live objects, so that they pickle."""
    if settings.aio_session is not None or settings.botocore_session is not None:
        raise ValueError(
            f"the registration for {where} uses a session object, which cannot be sent to "
            "another process; register a mapping of client settings there instead"
        )
    credentials = settings.sync_credentials
    if credentials is None:
        return settings
    if hasattr(credentials, "refresh_needed"):
        raise ValueError(
            f"the registration for {where} uses refreshing credentials, which cannot be sent "
            "to another process; let the workers find credentials in their environment"
        )
    frozen = credentials.get_frozen_credentials()
    return replace(
        settings,
        sync_credentials=None,
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
    )


@dataclass(frozen=True)
class ConfigurationSnapshot:
    """Registrations frozen for another process; see :meth:`ConfigurationMap.snapshot`."""

    registrations: tuple[tuple[tuple[str, ...], _Registration], ...]
    default: ClientSettings | None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def apply(self) -> None:
        """Make these the registrations of this process (a no-op if they already are)."""
        if configuration_map.applied_snapshot != self.token:
            configuration_map.restore(self)


_CACHE_OWNER = object()
_CACHE_SIZE = 4096

configuration_map = ConfigurationMap()


def register_configuration_parameter(
    path: PureS3Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    resource: Any = None,
    glob_new_algorithm: bool | None = None,
) -> None:
    """Set defaults for every path at or below ``path`` (``/``, a bucket, or a key prefix).

    ``parameters`` are extra S3 request arguments (``ServerSideEncryption``, ``StorageClass``,
    ``ContentType``, ``Metadata``, …), each sent with the requests that accept it. Three keys are
    not sent to S3: ``"transfer_config"`` (also spelt ``"transfert_config"``, as in s3path's
    proposal; a boto3 ``TransferConfig`` or :class:`aios3path.TransferConfig`), ``"callback_class"``
    (a progress callback class, instantiated once per transfer; ``None`` switches one registered
    above off) and ``"lean_requests"`` (``False``
    sends every request through aiobotocore).

    ``resource`` says where the prefix is served from: a boto3 S3 resource, a mapping of client
    settings (``{"endpoint_url": ..., "region_name": ..., "aws_access_key_id": ...,
    "aws_secret_access_key": ..., "config": botocore.config.Config(...)}``), or an aiobotocore /
    aioboto3 session.

    The nearest registration above a path wins, for each of these independently: the S3
    parameters, the resource, the transfer settings, the callback class and ``lean_requests``
    (``parameters={"transfer_config": ...}`` leaves the S3 parameters inherited from above; an
    empty ``parameters={}`` registers none). Registering again replaces the earlier value of
    what it gives and takes effect for the next call. A boto3 session brings its profile's
    whole configuration (endpoint, addressing style, retries), a boto3 resource or client its
    endpoint, region, config, credentials and TLS verification.
    """
    if not isinstance(path, PureS3Path):
        raise TypeError(f"path argument have to be a {PureS3Path} type. got {type(path)}")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise TypeError(f"parameters argument have to be a dict type. got {type(parameters)}")
    if parameters is None and resource is None and glob_new_algorithm is None:
        raise ValueError("user have to specify parameters or resource arguments")
    if glob_new_algorithm is not None:
        warnings.warn(
            "glob_new_algorithm is ignored: aios3path has one glob algorithm, "
            "which lists each pattern with the narrowest prefix",
            DeprecationWarning,
            stacklevel=2,
        )
    if parameters is None and resource is None:
        return
    configuration_map.set_configuration(path, resource=resource, arguments=parameters)


def setup_default_session(
    *,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    region_name: str | None = None,
    profile_name: str | None = None,
    endpoint_url: str | None = None,
) -> None:
    """Set the credentials, region (and endpoint) of paths with no registered resource.

    The aios3path counterpart of ``boto3.setup_default_session`` for users without boto3; a
    default session made with boto3's own call is honoured too.
    """
    configuration_map.set_default_settings(
        ClientSettings(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            region_name=region_name,
            profile_name=profile_name,
            endpoint_url=endpoint_url,
            source="setup_default_session",
        )
    )
