"""What is measured: workloads, their sizes, the data layout in the bucket, and the targets.

Standard library only: this module is imported by the orchestrator (``run.py``) and by every
worker process, whichever virtual environment the worker runs in.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

BUCKET = "aios3path-bench"


@dataclass(frozen=True)
class Sizes:
    """How big the workloads are (``FULL`` by default, ``QUICK`` for a smoke test)."""

    n_small: int  # 4 KiB objects read, and stat/exists'ed
    small_size: int
    concurrency: int  # requests in flight for the concurrent workloads
    n_list: int  # keys in one flat "directory" (iterdir, flat listing, glob)
    n_tree: int  # keys in the 3-level tree (rglob)
    big: int  # bytes of the large-object workloads
    mem: int  # bytes streamed by the memory workloads
    n_rename: int  # keys under the prefix that is renamed
    chunk: int  # bytes per read()/write() call of the streaming workloads
    rounds: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


FULL = Sizes(
    n_small=1000,
    small_size=4 * KiB,
    concurrency=64,
    n_list=10_000,
    n_tree=5_000,
    big=256 * MiB,
    mem=1 * GiB,
    n_rename=1000,
    chunk=1 * MiB,
    rounds=5,
)

QUICK = Sizes(
    n_small=100,
    small_size=4 * KiB,
    concurrency=64,
    n_list=1000,
    n_tree=500,
    big=16 * MiB,
    mem=64 * MiB,
    n_rename=100,
    chunk=1 * MiB,
    rounds=1,
)


# -- the data layout ---------------------------------------------------------------------------

SMALL_PREFIX = "small/"
LIST_PREFIX = "list/"
TREE_PREFIX = "tree/"
BIG_KEY = "big/source.bin"
MEM_KEY = "big/memory.bin"
GLOB_PATTERN = "k-004*.dat"  # a partial name: matches k-00400.dat ... k-00499.dat
RGLOB_PATTERN = "*.txt"


def small_keys(sizes: Sizes) -> list[str]:
    return [f"{SMALL_PREFIX}o-{i:05d}.bin" for i in range(sizes.n_small)]


def list_keys(sizes: Sizes) -> list[str]:
    return [f"{LIST_PREFIX}k-{i:05d}.dat" for i in range(sizes.n_list)]


def tree_keys(sizes: Sizes) -> list[str]:
    """``tree/dA/eB/f-CCC.txt|json``: 10 x 10 directories, half the files ``.txt``."""
    per_leaf = max(sizes.n_tree // 100, 1)
    return [
        f"{TREE_PREFIX}d{a}/e{b}/f-{c:03d}.{'txt' if c % 2 == 0 else 'json'}"
        for a in range(10)
        for b in range(10)
        for c in range(per_leaf)
    ]


def glob_expected(sizes: Sizes) -> int:
    return sum(
        1 for k in list_keys(sizes) if fnmatch.fnmatchcase(k[len(LIST_PREFIX) :], GLOB_PATTERN)
    )


def rglob_expected(sizes: Sizes) -> int:
    return sum(1 for k in tree_keys(sizes) if k.endswith(".txt"))


def rename_keys(prefix: str, sizes: Sizes) -> list[str]:
    return [f"{prefix}src/r-{i:05d}.bin" for i in range(sizes.n_rename)]


# -- workloads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    title: str  # the row label
    group: str  # small | listing | large | rename | memory
    unit: str = "s"  # "s" (wall time, lower is better) or "MiB" (peak RSS growth)
    doc: str = ""
    targets: tuple[str, ...] = field(default=())

    def label(self, sizes: Sizes) -> str:
        return self.title.format(
            n_small=f"{sizes.n_small:,}",
            kib=sizes.small_size // KiB,
            conc=sizes.concurrency,
            n_list=f"{sizes.n_list:,}",
            n_tree=f"{sizes.n_tree:,}",
            big=_human(sizes.big),
            mem=_human(sizes.mem),
            n_rename=f"{sizes.n_rename:,}",
        )


def _human(n: int) -> str:
    if n >= GiB and n % GiB == 0:
        return f"{n // GiB} GiB"
    return f"{n // MiB} MiB"


#: Target ids (see TARGETS below).
T_RAW = "raw"  # >= 0.9x raw aiobotocore's throughput
T_FASTEST = "fastest"  # faster than s3path, s3fs and obstore
T_LARGE = "large"  # within 15% of the best peer's throughput

WORKLOADS: list[Workload] = [
    Workload(
        "get_small_seq",
        "GET {kib} KiB x{n_small}, sequential",
        "small",
        doc="read_bytes() of each object, one after the other",
        targets=(T_RAW,),
    ),
    Workload(
        "get_small_conc",
        "GET {kib} KiB x{n_small}, {conc} in flight",
        "small",
        doc="read_bytes() of each object, 64 at a time (async: tasks; sync: 64 threads)",
        targets=(T_RAW, T_FASTEST),
    ),
    Workload(
        "exists",
        "exists() x{n_small}, {conc} in flight",
        "small",
        doc="exists() of each (existing) object",
        targets=(T_RAW,),
    ),
    Workload(
        "stat",
        "stat() x{n_small}, {conc} in flight",
        "small",
        doc="stat() (size) of each object",
        targets=(T_RAW,),
    ),
    Workload(
        "iterdir",
        "iterdir() of {n_list} keys",
        "listing",
        doc="the children of a prefix holding n_list keys (ListObjectsV2 with Delimiter)",
        targets=(T_RAW, T_FASTEST),
    ),
    Workload(
        "list_flat",
        "flat listing of {n_list} keys",
        "listing",
        doc="every key below the prefix, recursively (ListObjectsV2 without Delimiter)",
        targets=(T_RAW, T_FASTEST),
    ),
    Workload(
        "glob",
        "glob('k-004*.dat') among {n_list}",
        "listing",
        doc="a partial name among n_list keys (100 matches)",
        targets=(T_RAW, T_FASTEST),
    ),
    Workload(
        "rglob",
        "rglob('*.txt') over {n_tree} keys, 3 levels",
        "listing",
        doc="every .txt below a 3-level tree (half the keys match)",
        targets=(T_RAW, T_FASTEST),
    ),
    Workload(
        "write_bytes",
        "write_bytes() {big}",
        "large",
        doc="one call with the whole payload in memory",
        targets=(T_RAW, T_LARGE),
    ),
    Workload(
        "read_bytes",
        "read_bytes() {big}",
        "large",
        doc="the whole object into memory",
        targets=(T_RAW, T_LARGE),
    ),
    Workload(
        "stream_write",
        "open('wb').write() {big}",
        "large",
        doc="1 MiB write() calls on a streaming writer",
        targets=(T_RAW, T_LARGE),
    ),
    Workload(
        "stream_read",
        "open('rb').read() {big}",
        "large",
        doc="1 MiB read() calls on a streaming reader",
        targets=(T_RAW, T_LARGE),
    ),
    Workload(
        "upload",
        "upload {big} local file",
        "large",
        doc="a local file to a key",
        targets=(T_RAW, T_LARGE),
    ),
    Workload(
        "download",
        "download {big} to local file",
        "large",
        doc="a key to a local file",
        targets=(T_RAW, T_LARGE),
    ),
    Workload(
        "rename",
        "rename prefix of {n_rename} keys",
        "rename",
        doc="move every key under src/ to dst/ (server-side copies, then deletes)",
        targets=(T_RAW, T_FASTEST),
    ),
    Workload(
        "mem_stream_read",
        "peak RSS growth, stream-read {mem}",
        "memory",
        unit="MiB",
        doc="fresh process; 1 MiB read() calls; peak RSS minus RSS before",
    ),
    Workload(
        "mem_stream_write",
        "peak RSS growth, stream-write {mem}",
        "memory",
        unit="MiB",
        doc="fresh process; 1 MiB write() calls of one reused buffer",
    ),
]

WORKLOAD_BY_NAME = {w.name: w for w in WORKLOADS}

#: The contenders, aios3path's async API first: every ratio is "contender / aios3path".
CONTENDERS = ["aios3path", "aios3path-sync", "aiobotocore", "obstore", "s3fs", "s3path"]
BASELINE = "aios3path"
RAW = "aiobotocore"
#: The peers of target T_FASTEST; T_LARGE compares with every peer (raw aiobotocore too).
FASTEST_PEERS = ("s3path", "s3fs", "obstore")
PEERS = ("aiobotocore", "obstore", "s3fs", "s3path")

TARGETS = {
    T_RAW: "aios3path async >= 0.9x raw aiobotocore's throughput",
    T_FASTEST: "aios3path async faster than s3path, s3fs and obstore",
    T_LARGE: "aios3path async large-object throughput within 15% of the best peer",
}


def expected_check(workload: str, sizes: Sizes) -> int | None:
    """What a correct run of ``workload`` returns (objects, matches or bytes); None: no check."""
    small_total = sizes.n_small * sizes.small_size
    return {
        "get_small_seq": small_total,
        "get_small_conc": small_total,
        "exists": sizes.n_small,
        "stat": small_total,
        "iterdir": sizes.n_list,
        "list_flat": sizes.n_list,
        "glob": glob_expected(sizes),
        "rglob": rglob_expected(sizes),
        "write_bytes": sizes.big,
        "read_bytes": sizes.big,
        "stream_write": sizes.big,
        "stream_read": sizes.big,
        "upload": sizes.big,
        "download": sizes.big,
        "mem_stream_read": sizes.mem,
        "mem_stream_write": sizes.mem,
    }.get(workload)
