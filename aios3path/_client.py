"""``S3Client``: an aiobotocore client paired with its lean request path (if it has one)."""

from __future__ import annotations

from typing import Any

from ._lean import LeanClient


class S3Client:
    """The client the request seam (:mod:`aios3path._s3`) is handed.

    Attribute access falls through to the aiobotocore client (``client.meta``,
    ``client.put_object(...)``); ``lean`` is the lean path for GET, HEAD and listings, or
    ``None`` where botocore must send everything.
    """

    __slots__ = ("_botocore_only", "botocore", "lean")

    def __init__(self, botocore: Any, lean: LeanClient | None) -> None:
        self.botocore = botocore
        self.lean = lean
        self._botocore_only: S3Client | None = None if lean is not None else self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.botocore, name)

    async def aclose(self) -> None:
        """Close the lean path's connections, then the aiobotocore client."""
        try:
            if self.lean is not None:
                await self.lean.aclose()
        finally:
            await self.botocore.__aexit__(None, None, None)

    def forget(self) -> None:
        """Let go of the lean path's connections without I/O (after fork, or a closed loop)."""
        if self.lean is not None:
            self.lean.forget()

    def without_lean(self) -> S3Client:
        """The same client with every request sent through aiobotocore."""
        if self._botocore_only is None:
            self._botocore_only = S3Client(self.botocore, None)
        return self._botocore_only
