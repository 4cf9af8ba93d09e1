"""One contender in its own process: runs workloads on request and reports JSON timings.

Started by ``run.py`` as ``python worker.py --contender NAME --config JSON`` with any
interpreter that has that contender's library (the bench venv, or a venv of its own). It
answers one JSON line on stdout per JSON line on stdin:

* ``{"op": "run", "workload": W, "args": {...}}``: prepare (untimed), then time one run:
  ``{"ok": true, "seconds": wall, "cpu": process CPU seconds, "check": N}``;
* ``{"op": "call", "method": M, "args": {...}}``: an untimed helper (data set-up);
* ``{"op": "profile", "workload": W, "args": {...}, "out": PATH}``: one run under pyinstrument,
  with a report of where the time went written to PATH;
* ``{"op": "quit"}``.

Failures answer ``{"ok": false, "error": "Type: message"}``; the worker keeps serving.
With ``--memory WORKLOAD --args JSON`` it instead runs that one memory workload in this fresh
process and prints its peak RSS growth.

Anything the libraries print goes to stderr: stdout carries the protocol only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders

_PROTOCOL = None  # the real stdout, as a text file


def reply(message: dict[str, Any]) -> None:
    assert _PROTOCOL is not None
    _PROTOCOL.write(json.dumps(message) + "\n")
    _PROTOCOL.flush()


def take_stdout() -> None:
    """Keep fd 1 for the protocol and point everything else that prints at stderr."""
    global _PROTOCOL
    sys.stdout.flush()
    _PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


class Worker:
    def __init__(self, name: str, config: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.contender = contenders.load(name)(config)
        self.call(getattr(self.contender, "start", None))

    def call(self, fn: Any, *args: Any) -> Any:
        if fn is None:
            return None
        result = fn(*args)
        if inspect.isawaitable(result):
            result = self.loop.run_until_complete(result)
        return result

    def workload(self, name: str) -> Any:
        fn = getattr(self.contender, "w_" + name, None)
        if fn is None:
            raise NotImplementedError(f"{self.contender.name} has no {name} workload")
        return fn

    def run(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        fn = self.workload(name)
        self.contender.prepare(name, args)
        gc.collect()
        before, start = _cpu(), time.perf_counter()
        check = self.call(fn, args)
        seconds, cpu = time.perf_counter() - start, _cpu() - before
        return {"ok": True, "seconds": seconds, "cpu": cpu, "check": check}

    def profile(self, name: str, args: dict[str, Any], out: str) -> dict[str, Any]:
        from pyinstrument import Profiler

        fn = self.workload(name)
        self.contender.prepare(name, args)
        gc.collect()
        profiler = Profiler(interval=0.001, async_mode="disabled")
        before, start = _cpu(), time.perf_counter()
        profiler.start()
        check = self.call(fn, args)
        profiler.stop()
        seconds, cpu = time.perf_counter() - start, _cpu() - before
        Path(out).write_text(
            profile_report(profiler, name, seconds, cpu, self.contender.name), encoding="utf-8"
        )
        return {"ok": True, "seconds": seconds, "cpu": cpu, "check": check}

    def close(self) -> None:
        try:
            self.call(getattr(self.contender, "close", None))
        finally:
            self.loop.close()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _error(exc: BaseException) -> dict[str, Any]:
    traceback.print_exc(file=sys.stderr)
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return {"ok": False, "error": text[:300]}


def serve(worker: Worker) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        op = message.get("op")
        if op == "quit":
            break
        try:
            if op == "run":
                answer = worker.run(message["workload"], message.get("args", {}))
            elif op == "profile":
                answer = worker.profile(
                    message["workload"], message.get("args", {}), message["out"]
                )
            elif op == "call":
                method = getattr(worker.contender, message["method"])
                answer = {"ok": True, "result": worker.call(method, message.get("args", {}))}
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # the cell shows it; the worker goes on
            answer = _error(exc)
        reply(answer)


# -- memory: a fresh process per measurement ---------------------------------------------------


class RssSampler(threading.Thread):
    """Samples this process's resident set size every 2 ms and keeps the maximum."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop_event = threading.Event()
        self.peak = 0
        self._statm = open("/proc/self/statm", "rb", buffering=0)  # noqa: SIM115
        self._page = os.sysconf("SC_PAGE_SIZE")

    def rss(self) -> int:
        self._statm.seek(0)
        return int(self._statm.read().split()[1]) * self._page

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.002)

    def finish(self) -> int:
        self.stop_event.set()
        self.join()
        self.peak = max(self.peak, self.rss())
        return self.peak


def memory(worker: Worker, name: str, args: dict[str, Any]) -> dict[str, Any]:
    fn = worker.workload(name)
    args = dict(args)
    if "buffer_size" in args:
        args["buffer"] = os.urandom(args.pop("buffer_size"))
    worker.contender.prepare(name, args)
    gc.collect()
    sampler = RssSampler()
    baseline = sampler.rss()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sampler.start()
    cpu, start = _cpu(), time.perf_counter()
    check = worker.call(fn, args)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    peak = sampler.finish()
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = max(peak, maxrss_after if maxrss_after > maxrss_before else 0)
    return {
        "ok": True,
        "seconds": seconds,
        "cpu": cpu,
        "value": (peak - baseline) / (1024 * 1024),
        "baseline_mib": baseline / (1024 * 1024),
        "check": check,
    }


# -- profiles -----------------------------------------------------------------------------------

_IDLE_FUNCTIONS = {"select", "poll", "epoll", "kqueue", "wait", "acquire", "sleep"}
_PLUMBING = ("asyncio/", "contextlib.py", "<frozen", "worker.py", "contenders/_common.py")


def _idle(frame: Any) -> bool:
    """The event loop waiting in epoll (for the server, the disk threads, or the network)."""
    path = frame.file_path or ""
    return frame.function.rsplit(".", 1)[-1] in _IDLE_FUNCTIONS and (
        "selectors" in path or "threading" in path or path.startswith("<")
    )


def _package(frame: Any) -> str:
    path = frame.file_path or ""
    if _idle(frame):
        return "(idle: event loop waiting in epoll)"
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0].split(".", 1)[0]
    if "/aios3path/" in path:
        return "aios3path"
    if "/benchmarks/" in path:
        return "benchmark harness"
    if "/lib/python" in path:
        return "stdlib:" + path.rsplit("/lib/python", 1)[1].split("/", 2)[1].removesuffix(".py")
    return path or "?"


def profile_report(profiler: Any, workload: str, seconds: float, cpu: float, who: str) -> str:
    """Where the time went: by package, top functions by self time, then pyinstrument's tree."""
    session = profiler.last_session
    root = session.root_frame()
    by_package: dict[str, float] = {}
    by_function: dict[tuple[str, str], float] = {}
    inclusive: dict[tuple[str, str], float] = {}

    def walk(frame: Any, seen: frozenset[tuple[str, str]]) -> None:
        key = (frame.function, f"{frame.file_path_short or frame.file_path}:{frame.line_no}")
        self_time = frame.total_self_time
        if not frame.is_synthetic:
            by_package[_package(frame)] = by_package.get(_package(frame), 0.0) + self_time
            by_function[key] = by_function.get(key, 0.0) + self_time
            if key not in seen:  # recursion counts once
                inclusive[key] = inclusive.get(key, 0.0) + frame.time
                seen = seen | {key}
        for child in frame.children:
            walk(child, seen)

    if root is not None:
        walk(root, frozenset())
    total = root.time if root is not None else 0.0
    lines = [
        f"# {who}: {workload}",
        f"wall {seconds:.3f} s, process CPU {cpu:.3f} s (all threads), "
        f"sampled main-thread time {total:.3f} s",
        "",
        "## Self time by package (main thread)",
    ]
    for package, t in sorted(by_package.items(), key=lambda kv: -kv[1]):
        lines.append(f"{t:8.3f} s {100 * t / max(total, 1e-9):5.1f} %  {package}")
    lines += ["", "## Top 30 functions by self time"]
    for (function, where), t in sorted(by_function.items(), key=lambda kv: -kv[1])[:30]:
        lines.append(f"{t:8.3f} s {100 * t / max(total, 1e-9):5.1f} %  {function}  {where}")
    lines += ["", "## Top 40 aios3path/aiobotocore/botocore/aiohttp functions by inclusive time"]
    shown = [
        (k, t)
        for k, t in inclusive.items()
        if any(p in k[1] for p in ("aios3path", "botocore", "aiohttp"))
    ]
    for (function, where), t in sorted(shown, key=lambda kv: -kv[1])[:40]:
        lines.append(f"{t:8.3f} s {100 * t / max(total, 1e-9):5.1f} %  {function}  {where}")
    lines += [
        "",
        "## Call tree (frames >= 2 % of the time; asyncio/contextlib plumbing folded)",
        "",
    ]
    # Fold the plumbing and merge what is then the same call path (tasks give many copies).
    merged: dict[str, Any] = {"time": 0.0, "children": {}}

    def fold(frame: Any, node: dict[str, Any]) -> None:
        for child in frame.children:
            if child.is_synthetic:
                continue
            path = child.file_path_short or child.file_path or ""
            if any(p in path for p in _PLUMBING) and not _idle(child):
                fold(child, node)
                continue
            key = f"{child.function}  {path}:{child.line_no}"
            sub = node["children"].setdefault(key, {"time": 0.0, "children": {}})
            sub["time"] += child.time
            fold(child, sub)

    tree: list[str] = []

    def show(node: dict[str, Any], depth: int) -> None:
        for key, sub in sorted(node["children"].items(), key=lambda kv: -kv[1]["time"]):
            if sub["time"] < 0.02 * total or len(tree) >= 150:
                continue
            tree.append(
                f"{'  ' * depth}{sub['time']:7.3f} s {100 * sub['time'] / total:5.1f} %  {key}"
            )
            show(sub, depth + 1)

    if root is not None and total > 0:
        fold(root, merged)
        show(merged, 0)
    lines += tree
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contender", required=True)
    parser.add_argument("--config", required=True, help="JSON, or @path of a JSON file")
    parser.add_argument("--memory", help="run this one memory workload and exit")
    parser.add_argument("--args", default="{}")
    options = parser.parse_args()
    take_stdout()
    text = options.config
    config = json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    try:
        worker = Worker(options.contender, config)
    except Exception as exc:
        reply(_error(exc))
        return
    try:
        if options.memory:
            try:
                reply(memory(worker, options.memory, json.loads(options.args)))
            except Exception as exc:
                reply(_error(exc))
            return
        reply(
            {
                "ok": True,
                "ready": True,
                "versions": worker.contender.versions(),
                "python": sys.version.split()[0],
                "executable": sys.executable,
            }
        )
        serve(worker)
    finally:
        try:
            worker.close()
        except Exception:
            traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":
    main()
