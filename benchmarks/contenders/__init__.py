"""The contenders: one module per library, each imported only by its own worker process."""

from __future__ import annotations

import importlib
from typing import Any

MODULES = {
    "aios3path": "contenders.aios3path_async",
    "aios3path-sync": "contenders.aios3path_sync",
    "aiobotocore": "contenders.raw_aiobotocore",
    "obstore": "contenders.obstore_async",
    "s3fs": "contenders.s3fs_async",
    "s3path": "contenders.s3path_sync",
    "setup": "contenders.setup_data",
}

#: What each contender's worker needs, for a contender run in a venv of its own (--isolate).
REQUIREMENTS = {
    "aios3path": ["-e", "{root}"],
    "aios3path-sync": ["-e", "{root}"],
    "aiobotocore": ["aiobotocore"],
    "obstore": ["obstore"],
    "s3fs": ["s3fs"],
    "s3path": ["s3path", "boto3"],
}


def load(name: str) -> Any:
    """The contender class of ``name``."""
    return importlib.import_module(MODULES[name]).CONTENDER
