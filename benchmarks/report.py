"""Tables, target verdicts and the ratio chart, from ``results.json``.

``python benchmarks/report.py [benchmarks/results]`` regenerates ``results.md`` and
``ratios.png`` from the ``results.json`` in that folder (run.py does it after every run).
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as wl

#: Ratios are clamped below at this many MiB of memory growth (a near-zero baseline would make
#: every memory ratio meaningless).
MEMORY_FLOOR_MIB = 1.0


# -- numbers ------------------------------------------------------------------------------------


def median_of(cell: dict[str, Any] | None) -> float | None:
    if not cell or "median" not in cell:
        return None
    return float(cell["median"])


def ratio(cells: dict[str, Any], workload: str, name: str) -> float | None:
    """``name``'s median divided by aios3path's (> 1: aios3path is faster / leaner)."""
    base = median_of(cells.get(wl.BASELINE))
    other = median_of(cells.get(name))
    if base is None or other is None:
        return None
    if wl.WORKLOAD_BY_NAME[workload].unit == "MiB":
        return max(other, MEMORY_FLOOR_MIB) / max(base, MEMORY_FLOOR_MIB)
    return other / base if base > 0 else None


def fmt_value(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.1f} s"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def short_error(error: str, width: int = 40) -> str:
    error = re.sub(r"\s+", " ", error)
    return error if len(error) <= width else error[: width - 1] + "…"


# -- targets ------------------------------------------------------------------------------------


def _spread(cell: dict[str, Any]) -> tuple[float, float]:
    """The range of a cell's runs, without the fastest and slowest when there are 5 or more."""
    runs = sorted(cell["runs"])
    if len(runs) >= 5:
        runs = runs[1:-1]
    return runs[0], runs[-1]


def _overlap(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two cells' run ranges overlap (then a verdict between them is within noise)."""
    if not a or not b or not a.get("runs") or not b.get("runs"):
        return False
    (a_lo, a_hi), (b_lo, b_hi) = _spread(a), _spread(b)
    return a_lo <= b_hi and b_lo <= a_hi


NOISE = " [within noise: the run ranges overlap (5+ runs: without min and max)]"


def evaluate(cells_by_workload: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One verdict per (workload, target): met / missed / n/a, with the numbers."""
    verdicts = []
    for name, cells in cells_by_workload.items():
        workload = wl.WORKLOAD_BY_NAME[name]
        base = median_of(cells.get(wl.BASELINE))
        for target in workload.targets:
            verdict: dict[str, Any] = {"workload": name, "target": target}
            if base is None:
                error = cells.get(wl.BASELINE, {}).get("error")
                verdict.update(status="missed", detail=f"aios3path failed: {error}")
                verdicts.append(verdict)
                continue
            if target == wl.T_RAW:
                raw = median_of(cells.get(wl.RAW))
                if raw is None:
                    verdict.update(status="n/a", detail="raw aiobotocore has no result")
                else:
                    relative = raw / base  # aios3path's throughput relative to raw
                    status = "met" if relative >= 0.9 else "missed"
                    noisy = status == "missed" and _overlap(cells[wl.BASELINE], cells[wl.RAW])
                    verdict.update(
                        status=status,
                        value=relative,
                        noisy=noisy,
                        detail=f"{relative:.2f}x raw aiobotocore's throughput "
                        f"({fmt_value(base, 's')} vs {fmt_value(raw, 's')}; need >= 0.90x)"
                        + (NOISE if noisy else ""),
                    )
            elif target == wl.T_FASTEST:
                parts, missed, compared = [], [], 0
                for peer in wl.FASTEST_PEERS:
                    other = median_of(cells.get(peer))
                    if other is None:
                        parts.append(f"{peer} {'failed' if peer in cells else 'not run'}")
                        continue
                    compared += 1
                    overlap = _overlap(cells[wl.BASELINE], cells.get(peer))
                    parts.append(f"{peer} {other / base:.2f}x" + (" (overlap)" if overlap else ""))
                    if other <= base:
                        missed.append(peer)
                status = "missed" if missed else ("met" if compared else "n/a")
                verdict.update(
                    status=status,
                    detail=("slower than " + ", ".join(missed) + "; " if missed else "")
                    + "peer time / aios3path time: "
                    + ", ".join(parts),
                    missed_peers=missed,
                )
            elif target == wl.T_LARGE:
                peers = {p: median_of(cells.get(p)) for p in wl.PEERS}
                peers = {p: v for p, v in peers.items() if v is not None}
                if not peers:
                    verdict.update(status="n/a", detail="no peer has a result")
                else:
                    best = min(peers, key=peers.__getitem__)
                    relative = peers[best] / base
                    status = "met" if relative >= 0.85 else "missed"
                    noisy = status == "missed" and _overlap(cells[wl.BASELINE], cells[best])
                    verdict.update(
                        status=status,
                        value=relative,
                        noisy=noisy,
                        detail=f"{relative:.2f}x the throughput of the best peer, {best} "
                        f"({fmt_value(base, 's')} vs {fmt_value(peers[best], 's')}; "
                        f"need >= 0.85x)" + (NOISE if noisy else ""),
                    )
            verdicts.append(verdict)
    return verdicts


def missed_workloads(cells_by_workload: dict[str, dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for verdict in evaluate(cells_by_workload):
        if verdict["status"] == "missed" and verdict["workload"] not in seen:
            seen.append(verdict["workload"])
    return seen


# -- tables -------------------------------------------------------------------------------------


def _rows(results: dict[str, Any], server: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes (full error texts) of the main table."""
    meta = results["meta"]
    sizes = wl.Sizes(**meta["sizes"])
    contenders = meta["contenders"]
    cells_by_workload = results["servers"][server]["cells"]
    header = ["workload"] + [
        c + (" (baseline)" if c == wl.BASELINE else " (/ aios3path)") for c in contenders
    ]
    rows, notes = [], []
    for name, cells in cells_by_workload.items():
        workload = wl.WORKLOAD_BY_NAME[name]
        row = [workload.label(sizes)]
        for contender in contenders:
            cell = cells.get(contender, {})
            if "error" in cell:
                notes.append(f"{workload.name} / {contender}: {cell['error']}")
                row.append(f"ERROR[{len(notes)}] {short_error(cell['error'], 28)}")
                continue
            value = median_of(cell)
            if value is None:
                row.append("-")
                continue
            text = fmt_value(value, workload.unit)
            if contender != wl.BASELINE:
                text += f" ({fmt_ratio(ratio(cells, name, contender))})"
            row.append(text)
        rows.append(row)
    return header, rows, notes


def render_text(results: dict[str, Any]) -> str:
    out = []
    for server, data in results["servers"].items():
        header, rows, notes = _rows(results, server)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        out.append(
            f"\n{data['server']} — medians of {results['meta']['sizes']['rounds']} "
            f"round(s); (ratio) = contender / aios3path, > 1 means aios3path is faster"
        )
        out.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        out.append("  ".join("-" * w for w in widths))
        for row in rows:
            out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        for i, note in enumerate(notes, 1):
            out.append(f"  [{i}] {note}")
        verdicts = evaluate(data["cells"])
        out.append("\nTargets:")
        for v in verdicts:
            out.append(
                f"  {v['status'].upper():6} {v['target']:7} {v['workload']:16} {v['detail']}"
            )
    return "\n".join(out)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def versions_line(results: dict[str, Any], server: str) -> str:
    versions: dict[str, str] = {}
    for per in results["servers"][server].get("versions", {}).values():
        versions.update(per)
    order = [
        "aios3path",
        "aiobotocore",
        "botocore",
        "obstore",
        "s3fs",
        "fsspec",
        "s3path",
        "boto3",
        "smart_open",
    ]
    return ", ".join(f"{k} {versions[k]}" for k in order if k in versions)


def render_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    m = meta["machine"]
    sizes = wl.Sizes(**meta["sizes"])
    out = [
        "# aios3path benchmark results",
        "",
        f"*{meta['date']}* — `{meta['command'].strip()}` — {meta.get('duration_s', 0):.0f} s  ",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, "
        f"Python {m['python']}  ",
        f"aios3path revision: {meta.get('aios3path_revision', '?')}  ",
        f"Rounds: {sizes.rounds} (medians; contenders interleaved, order rotated each round; "
        f"memory: one fresh process per contender).",
        "",
        "Each cell: median wall time (memory rows: peak RSS growth) and, in brackets, that "
        "contender's number divided by aios3path's async API: **> 1 means aios3path is "
        "faster** (or uses less memory).",
    ]
    for server, data in results["servers"].items():
        header, rows, notes = _rows(results, server)
        out += [
            "",
            f"## {data['server']}",
            "",
            f"Versions: {versions_line(results, server)}",
            "",
            _md_table(header, rows),
        ]
        if notes:
            out += ["", "Errors:", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)]
        # throughput of the large-object rows
        large = [n for n in data["cells"] if wl.WORKLOAD_BY_NAME[n].group in ("large", "memory")]
        if large:
            out += [
                "",
                "Throughput of the large-object rows (MiB/s, median) and their memory "
                "rows' time (s):",
                "",
            ]
            t_header = ["workload", *meta["contenders"]]
            t_rows = []
            for name in large:
                workload = wl.WORKLOAD_BY_NAME[name]
                row = [workload.label(sizes)]
                size = sizes.mem if workload.group == "memory" else sizes.big
                for contender in meta["contenders"]:
                    cell = data["cells"][name].get(contender, {})
                    seconds = cell.get("seconds")
                    if seconds is None:
                        row.append("-")
                    elif workload.group == "memory":
                        row.append(f"{seconds:.1f} s")
                    else:
                        row.append(f"{size / wl.MiB / seconds:.0f}")
                t_rows.append(row)
            out += [_md_table(t_header, t_rows)]
        # CPU: client and server
        out += [
            "",
            "CPU seconds per run (median), client process / server process — where "
            "the server's share is large, the server limits that row:",
            "",
        ]
        c_header = ["workload", *meta["contenders"]]
        c_rows = []
        for name, cells in data["cells"].items():
            workload = wl.WORKLOAD_BY_NAME[name]
            if workload.group == "memory":
                continue
            row = [workload.label(sizes)]
            for contender in meta["contenders"]:
                cell = cells.get(contender, {})
                if "client_cpu" not in cell:
                    row.append("-")
                else:
                    row.append(f"{cell['client_cpu']:.2f} / {cell['server_cpu']:.2f}")
            c_rows.append(row)
        out += [_md_table(c_header, c_rows)]
        out += [
            "",
            "### Is the server the bottleneck?",
            "",
            "The fastest contender shows what the server can deliver; *headroom* is "
            "aios3path's time over that. Server cores = server CPU seconds / wall seconds "
            "(2 cores are shared by client and server): a row is server-limited when the "
            "fastest run already keeps the server near the cores left to it.",
            "",
        ]
        s_rows = []
        for name, cells in data["cells"].items():
            workload = wl.WORKLOAD_BY_NAME[name]
            if workload.group == "memory":
                continue
            timed = {c: cell for c, cell in cells.items() if "median" in cell}
            if not timed:
                continue
            best = min(timed, key=lambda c: timed[c]["median"])
            b = timed[best]
            a = timed.get(wl.BASELINE)

            def cores(cell: dict[str, Any]) -> str:
                seconds = cell.get("seconds") or cell["median"]
                return f"{cell['server_cpu'] / seconds:.2f}" if seconds else "-"

            s_rows.append(
                [
                    workload.label(sizes),
                    f"{best} {fmt_value(b['median'], 's')}",
                    cores(b),
                    fmt_value(a["median"], "s") if a else "-",
                    cores(a) if a else "-",
                    f"{a['client_cpu'] / (a.get('seconds') or a['median']):.2f}" if a else "-",
                    f"{a['median'] / b['median']:.2f}x" if a else "-",
                ]
            )
        out += [
            _md_table(
                [
                    "workload",
                    "fastest",
                    "server cores (fastest)",
                    "aios3path",
                    "server cores (aios3path)",
                    "client cores (aios3path)",
                    "headroom",
                ],
                s_rows,
            )
        ]
        out += ["", "### Targets (aios3path's async API)", ""]
        for v in evaluate(data["cells"]):
            mark = {"met": "✅ met", "missed": "❌ missed", "n/a": "- n/a"}[v["status"]]
            out.append(f"- {mark} — **{v['workload']}**, {wl.TARGETS[v['target']]}: {v['detail']}")
        profiles = data.get("profiles") or {}
        if profiles:
            out += [
                "",
                "### Where aios3path's time goes on the missed workloads",
                "",
                "pyinstrument, main thread (the event loop), one run each; the full "
                "reports (package split, top functions, call tree) are linked.",
                "",
            ]
            for name, rel in profiles.items():
                out += [
                    f"#### {name} — [{rel}]({rel})",
                    "",
                    "```",
                    profile_digest(Path(results.get("_out", ".")) / rel),
                    "```",
                    "",
                ]
    out.append("")
    return "\n".join(out)


def profile_digest(path: Path, functions: int = 12) -> str:
    """The head of a profile report: totals, the package split, the top functions."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return "(profile missing)"
    sections = text.split("\n## ")
    head = sections[0].splitlines()[1:]
    keep = head[:]
    for section in sections[1:]:
        title, _, body = section.partition("\n")
        if title.startswith("Self time by package"):
            keep += ["", title, *body.strip("\n").splitlines()[:8]]
        elif title.startswith("Top 30 functions"):
            keep += ["", f"Top {functions} functions by self time"]
            keep += body.strip("\n").splitlines()[:functions]
    return "\n".join(keep).strip()


# -- chart --------------------------------------------------------------------------------------

COLORS = {
    "aios3path-sync": "#4c72b0",
    "aiobotocore": "#8c8c8c",
    "obstore": "#dd8452",
    "s3fs": "#55a868",
    "s3path": "#c44e52",
}


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    meta = results["meta"]
    sizes = wl.Sizes(**meta["sizes"])
    servers = list(results["servers"])
    others = [c for c in meta["contenders"] if c != wl.BASELINE]
    n_workloads = max(len(d["cells"]) for d in results["servers"].values())
    fig, axes = plt.subplots(
        1,
        len(servers),
        figsize=(11 * len(servers), 1.2 + 0.62 * n_workloads * max(1, len(others)) / 4),
        squeeze=False,
    )
    for ax, server in zip(axes[0], servers, strict=True):
        data = results["servers"][server]
        names = list(data["cells"])
        bar = 0.8 / max(len(others), 1)
        lo, hi = 0.5, 2.0
        labelled: set[str] = set()
        for j, contender in enumerate(others):
            for i, name in enumerate(names):
                y = i + (j - (len(others) - 1) / 2) * bar
                cell = data["cells"][name].get(contender, {})
                r = ratio(data["cells"][name], name, contender)
                if r is None:
                    marker = "error" if "error" in cell else "n/a"
                    ax.text(
                        1.0,
                        y,
                        f" {contender}: {marker}",
                        va="center",
                        ha="left",
                        fontsize=6,
                        color=COLORS.get(contender, "k"),
                    )
                    continue
                lo, hi = min(lo, r), max(hi, r)
                ax.barh(
                    y,
                    r - 1,
                    left=1,
                    height=bar * 0.9,
                    color=COLORS.get(contender, "k"),
                    label=None if contender in labelled else contender,
                )
                labelled.add(contender)
                ax.text(
                    r,
                    y,
                    f" {r:.2f}" if r >= 1 else f"{r:.2f} ",
                    va="center",
                    ha="left" if r >= 1 else "right",
                    fontsize=6,
                )
        ax.set_xscale("log")
        ax.set_xlim(lo / 1.6, hi * 1.8)
        ax.axvline(1.0, color="black", linewidth=1)
        ax.axvline(0.9, color="gray", linewidth=0.6, linestyle=":")
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels([wl.WORKLOAD_BY_NAME[n].label(sizes) for n in names], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(
            "contender / aios3path (time, or memory growth): > 1 = aios3path faster "
            "(leaner); log scale; dotted: 0.9"
        )
        import textwrap

        ax.set_title(
            "\n".join(
                textwrap.wrap(
                    f"server: {data['server']} on 127.0.0.1 — versions: "
                    f"{versions_line(results, server)}",
                    130,
                )
            ),
            fontsize=7,
        )
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    m = meta["machine"]
    fig.suptitle(
        f"aios3path (async API) vs peers — {meta['date']} — {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']} — aios3path {meta.get('aios3path_revision', '?')} — "
        f"medians of {sizes.rounds} round(s)" + (" — QUICK sizes" if meta.get("quick") else ""),
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_all(results: dict[str, Any], out: Path) -> None:
    results = dict(results)
    results["_out"] = str(out)
    for data in results["servers"].values():
        data["targets"] = evaluate(data["cells"])
    (out / "results.json").write_text(
        json.dumps({k: v for k, v in results.items() if k != "_out"}, indent=1, default=_nan),
        encoding="utf-8",
    )
    (out / "results.md").write_text(render_markdown(results), encoding="utf-8")
    chart(results, out / "ratios.png")


def _nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    write_all(data, folder)
    print(render_text(data))
