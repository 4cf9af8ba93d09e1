"""Transfer settings: part sizes, thresholds and concurrency for big objects.

Registered per prefix with ``register_configuration_parameter(path, parameters={
"transfer_config": TransferConfig(...)})``. boto3's ``boto3.s3.transfer.TransferConfig`` is
accepted too (its ``multipart_threshold``, ``multipart_chunksize``, ``max_concurrency`` and
``max_bandwidth`` are read), as is the seed's misspelt key ``"transfert_config"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

#: S3's smallest part (all but the last) and largest part of a multipart upload.
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000


#: A stream delivering fewer bytes a second than this, while its reader waits for them, is
#: one slow connection: a sequential reader (``read_ahead=None``) fetches parts in parallel
#: instead. One connection to S3 carries some 50-150 MB/s; to a store on the same machine or
#: network, several hundred MB/s to GB/s, where one stream keeps up with most readers.
SLOW_STREAM = 192 * MiB
#: ...but only from a distant store: one whose response head came this many seconds or more
#: after the request (S3's first bytes come after some 20-200 ms; a store on the same machine
#: or network answers within a few ms, even on a busy machine, where a slow stream is the
#: store's want of CPU, and parallel parts would not help).
DISTANT_STORE = 0.02
#: How many parts ahead such a reader fetches (at most ``max_concurrency``).
AUTO_READ_AHEAD = 4


@dataclass(frozen=True)
class TransferConfig:
    """How big objects move.

    * ``multipart_threshold``: writes and uploads larger than this use a multipart upload;
      smaller ones are one ``PutObject``.
    * ``multipart_chunksize``: the part size of uploads and of ranged reads (raised
      automatically where an object would need more than 10,000 parts).
    * ``max_concurrency``: parts (or keys, for prefix operations) in flight at once.
    * ``read_ahead``: how a sequential reader fetches. 0 (the default): it streams one GET for
      the rest of the object (a few MiB buffered). ``None``: it streams too, and once two
      parts' worth of that stream shows one connection to a distant store is slow (its
      response head after 20 ms or more, under 192 MiB/s while the reader waits for it), it
      fetches the parts after the current one in parallel instead, ``min(max_concurrency,
      4)`` ahead of the one being read (for reading S3 over a network). 1 or more: it
      fetches whole parts in parallel from the start, this many ahead. Parallel parts hold
      up to ``read_ahead + 1`` parts in memory.
    * ``multipart_copy_threshold`` / ``multipart_copy_chunksize``: server-side copies of
      objects larger than the threshold use ``UploadPartCopy`` with parts of this size
      (``CopyObject`` refuses objects over 5 GiB).
    * ``max_bandwidth``: bytes per second a single transfer may use (``None``: no limit).
    """

    multipart_threshold: int = 8 * MiB
    multipart_chunksize: int = 8 * MiB
    max_concurrency: int = 10
    read_ahead: int | None = 0
    multipart_copy_threshold: int = 5 * GiB
    multipart_copy_chunksize: int = 256 * MiB
    max_bandwidth: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "multipart_threshold",
            "multipart_chunksize",
            "max_concurrency",
            "multipart_copy_threshold",
            "multipart_copy_chunksize",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"TransferConfig.{name} must be a positive int, got {value!r}")
        if self.read_ahead is not None and (
            not isinstance(self.read_ahead, int) or self.read_ahead < 0
        ):
            raise ValueError(
                f"TransferConfig.read_ahead must be None or >= 0, got {self.read_ahead!r}"
            )
        if self.multipart_copy_chunksize > MAX_PART_SIZE:
            raise ValueError("TransferConfig.multipart_copy_chunksize must be at most 5 GiB")

    def part_size_for(self, size: int, chunk: int | None = None) -> int:
        """The part size to use for an object of ``size`` bytes (at most 10,000 parts)."""
        part = max(chunk or self.multipart_chunksize, 1)
        if size > part * MAX_PARTS:
            part = -(-size // MAX_PARTS)
        return part


DEFAULT_TRANSFER_CONFIG = TransferConfig()


def part_ranges(start: int, size: int, part: int) -> list[tuple[int, int, int]]:
    """``(part number, first byte, last byte)`` for ``start..size`` cut into ``part`` bytes."""
    return [
        (number, first, min(first + part, size) - 1)
        for number, first in enumerate(range(start, size, part), start=1)
    ]


def as_transfer_config(value: Any) -> TransferConfig:
    """A :class:`TransferConfig` from ours, boto3's ``TransferConfig`` or ``None`` (defaults)."""
    if value is None:
        return DEFAULT_TRANSFER_CONFIG
    if isinstance(value, TransferConfig):
        return value
    names = ("multipart_threshold", "multipart_chunksize", "max_concurrency")
    if all(hasattr(value, n) for n in names):  # boto3.s3.transfer.TransferConfig
        return TransferConfig(
            multipart_threshold=int(value.multipart_threshold),
            multipart_chunksize=int(value.multipart_chunksize),
            max_concurrency=int(value.max_concurrency),
            max_bandwidth=getattr(value, "max_bandwidth", None),
        )
    raise TypeError(
        "transfer_config must be an aios3path.TransferConfig or a boto3 TransferConfig, "
        f"not {type(value).__name__!r}"
    )
