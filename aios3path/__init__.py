"""aios3path: the asyncio-native pathlib for Amazon S3 and S3-compatible stores.

``AsyncS3Path`` mirrors :mod:`pathlib` with awaitable methods; ``S3Path`` is the same API,
synchronous, a drop-in for the ``s3path`` package; ``PureS3Path`` is path arithmetic with no I/O.
"""

from pathlib import Path  # s3path exports it too: `from s3path import Path, S3Path` keeps working

from ._config import (
    ClientSettings,
    ConfigurationSnapshot,
    configuration_map,
    register_configuration_parameter,
    setup_default_session,
)
from ._errors import (
    S3DirectoryNotEmptyError,
    S3Error,
    S3FileExistsError,
    S3FileNotFoundError,
    S3ObjectChangedError,
    S3PermissionError,
    S3ValueError,
)
from ._file import (
    S3ObjectReader,
    S3ObjectWriter,
    S3TextReader,
    S3TextWriter,
)
from ._path import AsyncS3Path, AsyncVersionedS3Path, S3OwnerNotFoundError
from ._pool import aclose
from ._pure import PureS3Path, PureVersionedS3Path
from ._stat import StatResult
from ._sync import S3Path, VersionedS3Path
from ._transfer_config import TransferConfig
from ._tree import S3DeleteError, S3TransferError

__version__ = "0.1.0"

__all__ = [
    "AsyncS3Path",
    "AsyncVersionedS3Path",
    "ClientSettings",
    "ConfigurationSnapshot",
    "Path",
    "PureS3Path",
    "PureVersionedS3Path",
    "S3DeleteError",
    "S3DirectoryNotEmptyError",
    "S3Error",
    "S3FileExistsError",
    "S3FileNotFoundError",
    "S3ObjectChangedError",
    "S3ObjectReader",
    "S3ObjectWriter",
    "S3OwnerNotFoundError",
    "S3Path",
    "S3PermissionError",
    "S3TextReader",
    "S3TextWriter",
    "S3TransferError",
    "S3ValueError",
    "StatResult",
    "TransferConfig",
    "VersionedS3Path",
    "aclose",
    "configuration_map",
    "register_configuration_parameter",
    "setup_default_session",
]
