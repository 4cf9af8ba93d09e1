"""``Target``: one object or prefix resolved for requests (client, settings, names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ._config import Resolved
from ._transfer_config import TransferConfig


class Target:
    """What an operation on one path needs: its client, resolved settings, bucket, key and URI.

    ``uri`` is the human-readable ``s3://bucket/key`` used in error messages.
    """

    __slots__ = ("bucket", "client", "key", "resolved", "uri")

    def __init__(self, client: Any, resolved: Resolved, bucket: str, key: str, uri: str) -> None:
        self.client = client
        self.resolved = resolved
        self.bucket = bucket
        self.key = key
        self.uri = uri

    @property
    def params(self) -> Mapping[str, Any]:
        """The S3 parameters registered for the path."""
        return self.resolved.parameters

    @property
    def transfer(self) -> TransferConfig:
        """The transfer settings registered for the path."""
        return self.resolved.transfer_config

    def same_endpoint(self, other: Target) -> bool:
        """True when both are served by the same client settings (server-side copy works)."""
        mine, theirs = self.resolved.settings, other.resolved.settings
        return mine is theirs or mine.endpoint_identity() == theirs.endpoint_identity()

    def with_parameters(self, extra: Mapping[str, Any]) -> Target:
        """The same target with ``extra`` S3 parameters over the registered ones."""
        if not extra:
            return self
        return self._with({**self.resolved.parameters, **extra})

    def plain(self) -> Target:
        """The same target without a ``VersionId``: the key's current object."""
        if "VersionId" not in self.resolved.parameters:
            return self
        return self._with({k: v for k, v in self.resolved.parameters.items() if k != "VersionId"})

    def _with(self, parameters: dict[str, Any]) -> Target:
        """The same target with exactly these S3 parameters."""
        resolved = replace(self.resolved, parameters=MappingProxyType(parameters))
        return Target(self.client, resolved, self.bucket, self.key, self.uri)

    def at(self, key: str) -> Target:
        """The same bucket and settings, for another key."""
        return Target(self.client, self.resolved, self.bucket, key, f"s3://{self.bucket}/{key}")
