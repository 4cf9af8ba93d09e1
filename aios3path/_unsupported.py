"""pathlib methods that have no meaning on S3, shared by the async and sync path classes."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from ._pure import PureS3Path

_P = TypeVar("_P", bound=PureS3Path)


def _unsupported(name: str) -> NoReturn:
    raise NotImplementedError(f"{name} is unsupported on S3 service")


class NoLocalFilesystemMixin(PureS3Path):
    """``absolute()`` and the pathlib methods S3 cannot support (``NotImplementedError``).

    They are plain methods on both APIs, so they raise at the call, awaited or not.
    """

    __slots__ = ()

    def absolute(self: _P) -> _P:
        """This path: S3 paths are absolute or unusable (``ValueError`` for a relative one)."""
        if not self.is_absolute():
            raise ValueError(f"relative path have no bucket, key specification: {str(self)!r}")
        return self

    def resolve(self, strict: bool = False) -> NoReturn:
        """Unsupported: S3 has no links to resolve (``NotImplementedError``)."""
        _unsupported("resolve")

    @classmethod
    def cwd(cls) -> NoReturn:
        """Unsupported: S3 has no working directory (``NotImplementedError``)."""
        _unsupported("cwd")

    @classmethod
    def home(cls) -> NoReturn:
        """Unsupported: S3 has no home directory (``NotImplementedError``)."""
        _unsupported("home")

    def expanduser(self) -> NoReturn:
        """Unsupported (``NotImplementedError``)."""
        _unsupported("expanduser")

    def chmod(self, mode: int, *, follow_symlinks: bool = True) -> NoReturn:
        """Unsupported: S3 permissions are policies, not modes (``NotImplementedError``)."""
        _unsupported("chmod")

    def lchmod(self, mode: int) -> NoReturn:
        """Unsupported (``NotImplementedError``)."""
        _unsupported("lchmod")

    def group(self, *, follow_symlinks: bool = True) -> NoReturn:
        """Unsupported: S3 objects have no group (``NotImplementedError``)."""
        _unsupported("group")

    def lstat(self) -> NoReturn:
        """Unsupported: S3 has no links (``NotImplementedError``); use ``stat()``."""
        _unsupported("lstat")

    def is_block_device(self) -> NoReturn:
        """Unsupported (``NotImplementedError``), as in s3path."""
        _unsupported("is_block_device")

    def is_char_device(self) -> NoReturn:
        """Unsupported (``NotImplementedError``), as in s3path."""
        _unsupported("is_char_device")

    def symlink_to(self, target: Any, target_is_directory: bool = False) -> NoReturn:
        """Unsupported: S3 has no symbolic links (``NotImplementedError``)."""
        _unsupported("symlink_to")

    def hardlink_to(self, target: Any) -> NoReturn:
        """Unsupported: S3 has no hard links (``NotImplementedError``)."""
        _unsupported("hardlink_to")

    def readlink(self) -> NoReturn:
        """Unsupported: S3 has no links (``NotImplementedError``)."""
        _unsupported("readlink")
