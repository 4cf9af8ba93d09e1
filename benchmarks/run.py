#!/usr/bin/env python3
"""Benchmark aios3path against its peers on a local S3 server: ``python benchmarks/run.py``.

On first use this creates ``benchmarks/.venv`` (``pip install -e ".[bench]"``) and re-runs
itself there; it re-installs when ``pyproject.toml`` changes. Then, for each server
(SeaweedFS by default, on 127.0.0.1 through ``aios3path.testing``):

1. it creates the data set (untimed, over raw aiobotocore);
2. it starts one worker process per contender (aios3path async, aios3path's sync shim, raw
   aiobotocore, obstore, s3fs, s3path), each in its own interpreter, that reports JSON timings;
3. for every workload it runs ``rounds`` rounds, every contender once per round, rotating the
   order, and keeps the medians (memory workloads: one fresh process per contender);
4. it writes ``results.json``, ``results.md`` and ``ratios.png`` and prints the table; each
   missed target gets a pyinstrument profile of aios3path on that workload in ``profiles/``.

``--quick`` runs small sizes once (a smoke test of under two minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv"
sys.path.insert(0, str(HERE))

import workloads as wl  # noqa: E402  (standard library only)

# -- the bench virtual environment -------------------------------------------------------------


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path, requirements: list[str], label: str) -> Path:
    """Create ``venv`` and pip-install ``requirements`` into it unless its stamp matches."""
    python = _venv_python(venv)
    stamp_file = venv / ".bench-stamp"
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes())
    digest.update(json.dumps(requirements).encode())
    stamp = digest.hexdigest()
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return python
    if not python.exists():
        print(f"[bench] creating {venv} ({label})", file=sys.stderr, flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    print(f"[bench] installing {' '.join(requirements)} into {venv}", file=sys.stderr, flush=True)
    subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", *requirements], cwd=REPO)
    stamp_file.write_text(stamp)
    return python


def bootstrap(argv: list[str]) -> None:
    """Re-run this script inside benchmarks/.venv (made or refreshed as needed)."""
    if "--no-venv" in argv or Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = ensure_venv(VENV, ["-e", f"{REPO}[bench]"], "bench")
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *argv])


# -- workers -----------------------------------------------------------------------------------


class WorkerError(RuntimeError):
    pass


class Worker:
    """A contender's worker process, spoken to in JSON lines."""

    def __init__(self, name: str, python: str, config_path: Path, log_dir: Path) -> None:
        self.name, self.python, self.config_path = name, python, config_path
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[str] | None = None
        self.hello: dict[str, Any] = {}
        self.start_error: str | None = None

    def start(self) -> None:
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                self.python,
                str(HERE / "worker.py"),
                "--contender",
                self.name,
                "--config",
                f"@{self.config_path}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
            cwd=HERE,
        )
        log.close()
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()
        try:
            self.hello = self._read(180)
        except WorkerError as error:
            self.start_error = str(error)
            return
        if not self.hello.get("ok"):
            self.start_error = self.hello.get("error", "worker failed to start")
            self.stop()

    @staticmethod
    def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def _read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerError(f"timeout after {timeout:.0f} s") from None
        if line is None:
            code = self.proc.wait() if self.proc else None
            raise WorkerError(f"worker exited ({code}): {self.log_tail()}")
        return json.loads(line)

    def log_tail(self, chars: int = 300) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " ".join(text[-chars:].split())

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.start_error is None

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        if not self.alive:
            self.start_error = None
            self.start()
            if self.start_error:
                return {"ok": False, "error": self.start_error}
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
            return self._read(timeout)
        except (WorkerError, BrokenPipeError, OSError) as error:
            self.kill()
            return {"ok": False, "error": str(error)}

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


def run_memory(
    name: str,
    python: str,
    config_path: Path,
    workload: str,
    args: dict[str, Any],
    log_dir: Path,
    timeout: float,
) -> dict[str, Any]:
    """One memory workload in a fresh worker process."""
    log_path = log_dir / f"{name}.log"
    with open(log_path, "a", encoding="utf-8") as log:
        try:
            done = subprocess.run(
                [
                    python,
                    str(HERE / "worker.py"),
                    "--contender",
                    name,
                    "--config",
                    f"@{config_path}",
                    "--memory",
                    workload,
                    "--args",
                    json.dumps(args),
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=timeout,
                cwd=HERE,
            )
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timeout after {timeout:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        return {"ok": False, "error": f"worker exited ({done.returncode}) without an answer"}
    return json.loads(lines[-1])


# -- the machine --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def library_revision() -> str:
    """The aios3path commit measured, with ``+dirty`` if its files had local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "aios3path"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + ("+dirty" if dirty else "")


def server_version(kind: str) -> str:
    if kind == "seaweedfs":
        from aios3path.testing import find_weed_binary

        weed = find_weed_binary()
        if weed:
            with contextlib.suppress(Exception):
                out = subprocess.run(
                    [weed, "version"], capture_output=True, text=True, timeout=30
                ).stdout
                found = re.search(r"\b\d+\.\d+(?:\.\d+)?\b", out)
                if found:
                    return "SeaweedFS " + found.group(0)
        return "SeaweedFS"
    if kind == "moto":
        from importlib.metadata import version

        return "moto " + version("moto")
    return kind


class ServerCpu:
    """CPU seconds used by the server process (and its children)."""

    def __init__(self, pid: int | None) -> None:
        self.process = None
        if pid:
            with contextlib.suppress(Exception):
                import psutil

                self.process = psutil.Process(pid)

    def seconds(self) -> float:
        if self.process is None:
            return float("nan")
        try:
            total = sum(self.process.cpu_times()[:2])
            for child in self.process.children(recursive=True):
                with contextlib.suppress(Exception):
                    total += sum(child.cpu_times()[:2])
            return total
        except Exception:
            return float("nan")

    def wait_idle(self, window: float = 0.05, busy: float = 0.2, give_up: float = 10.0) -> float:
        """Wait until the server stops working on its own; the seconds waited.

        SeaweedFS compacts and vacuums in the background after deletes and big writes; a run
        started while it does pays for the previous workload (the first contender of a
        memory row, which runs once, used to take three times as long). Idle means using
        less than ``busy`` of a core over ``window`` seconds; after ``give_up`` seconds the
        run starts anyway.
        """
        started = time.perf_counter()
        before = self.seconds()
        if before != before:  # nan: no psutil or no server process to watch
            return 0.0
        while time.perf_counter() - started < give_up:
            time.sleep(window)
            now = self.seconds()
            if now - before < busy * window:
                break
            before = now
        return time.perf_counter() - started


# -- one server ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, options: argparse.Namespace, sizes: wl.Sizes, out: Path) -> None:
        self.options, self.sizes, self.out = options, sizes, out
        self.workloads = [wl.WORKLOAD_BY_NAME[n] for n in options.workloads]
        self.contenders = options.contenders
        self.pythons = options.pythons
        self.timeout = options.timeout

    def log(self, text: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def run_server(self, kind: str) -> dict[str, Any]:
        from aios3path.testing import start_server

        work = Path(tempfile.mkdtemp(prefix=f"aios3path-bench-{kind}-"))
        log_dir = HERE / ".work" / "logs" / kind
        shutil.rmtree(log_dir, ignore_errors=True)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log(f"starting {kind}")
        server = start_server(kind)
        workers: dict[str, Worker] = {}
        try:
            config = {
                **server.client_settings(),
                "bucket": wl.BUCKET,
                "sizes": self.sizes.as_dict(),
            }
            config_path = work / "config.json"
            config_path.write_text(json.dumps(config))
            server_cpu = ServerCpu(getattr(server, "pid", None))
            setup = Worker("setup", sys.executable, config_path, log_dir)
            setup.start()  # it creates the bucket
            if setup.start_error:
                raise RuntimeError(f"setup worker failed: {setup.start_error}")
            local = self._populate(setup, work)
            for name in self.contenders:
                self.log(f"starting worker {name}")
                worker = Worker(name, self.pythons.get(name, sys.executable), config_path, log_dir)
                worker.start()
                if worker.start_error:
                    self.log(f"  {name} failed to start: {worker.start_error}")
                workers[name] = worker
            cells: dict[str, dict[str, Any]] = {}
            for workload in self.workloads:
                cells[workload.name] = self._run_workload(
                    workload, workers, setup, server_cpu, config_path, log_dir, work, local
                )
            profiles = {}
            if self.options.profile or self.options.profile_workloads:
                profiles = self._profile_misses(kind, cells, workers, setup, work, local)
            versions = {n: w.hello.get("versions", {}) for n, w in workers.items()}
            for w in workers.values():
                w.stop()
            setup.stop()
            return {
                "server": server_version(kind),
                "cells": cells,
                "versions": versions,
                "profiles": profiles,
            }
        finally:
            for w in workers.values():
                w.kill()
            server.stop()
            shutil.rmtree(work, ignore_errors=True)

    def _call(self, setup: Worker, method: str, **args: Any) -> Any:
        answer = setup.request({"op": "call", "method": method, "args": args}, 1800)
        if not answer.get("ok"):
            raise RuntimeError(f"set-up step {method} failed: {answer.get('error')}")
        return answer["result"]

    def _populate(self, setup: Worker, work: Path) -> Path:
        names = {w.name for w in self.workloads}
        started = time.perf_counter()
        sizes = self.sizes
        # Always: every worker touches the first small key when it starts.
        self._call(setup, "populate", keys=wl.small_keys(sizes), size=sizes.small_size)
        if names & {"iterdir", "list_flat", "glob"}:
            self._call(setup, "populate", keys=wl.list_keys(sizes), size=16)
        if "rglob" in names:
            self._call(setup, "populate", keys=wl.tree_keys(sizes), size=16)
        if names & {"read_bytes", "stream_read", "download"}:
            self._call(setup, "put_big", key=wl.BIG_KEY, size=sizes.big)
        if "mem_stream_read" in names:
            self._call(setup, "put_big", key=wl.MEM_KEY, size=sizes.mem)
        local = work / "upload-source.bin"
        if "upload" in names:
            with open(local, "wb") as f:
                remaining = sizes.big
                while remaining:
                    block = min(remaining, 8 * wl.MiB)
                    f.write(os.urandom(block))
                    remaining -= block
        self.log(f"data set ready in {time.perf_counter() - started:.1f} s")
        return local

    def _args(self, workload: str, name: str, rnd: int, work: Path, local: Path) -> dict[str, Any]:
        slug = f"{name}-{workload}"
        if workload in ("write_bytes", "stream_write"):
            return {"key": f"out/{slug}.bin"}
        if workload in ("read_bytes", "stream_read"):
            return {"key": wl.BIG_KEY}
        if workload == "upload":
            return {"key": f"out/{slug}.bin", "local": str(local)}
        if workload == "download":
            return {"key": wl.BIG_KEY, "local": str(work / f"download-{name}.bin")}
        if workload == "rename":
            base = f"rename/{name}-{rnd}/"
            return {"src": base + "src/", "dst": base + "dst/"}
        if workload == "mem_stream_read":
            return {"key": wl.MEM_KEY}
        if workload == "mem_stream_write":
            return {
                "key": f"out/{slug}.bin",
                "size": self.sizes.mem,
                "buffer_size": self.sizes.chunk,
            }
        return {}

    def _before(self, workload: str, setup: Worker, args: dict[str, Any]) -> None:
        if workload == "rename":
            self._call(setup, "delete_prefix", prefix=args["src"].rsplit("src/", 1)[0])
            keys = wl.rename_keys(args["src"].rsplit("src/", 1)[0], self.sizes)
            self._call(setup, "populate", keys=keys, size=self.sizes.small_size)

    def _verify(self, workload: str, setup: Worker, args: dict[str, Any], check: Any) -> str | None:
        """None if the run did what it should, else what went wrong."""
        expected = wl.expected_check(workload, self.sizes)
        if expected is not None and check != expected:
            return f"wrong result: {check!r}, expected {expected!r}"
        if workload in ("write_bytes", "stream_write", "upload", "mem_stream_write"):
            size = self._call(setup, "head_size", key=args["key"])
            want = self.sizes.mem if workload == "mem_stream_write" else self.sizes.big
            if size != want:
                return f"wrong result: object has {size} bytes, expected {want}"
        if workload == "download":
            local = Path(args["local"])
            size = local.stat().st_size if local.exists() else -1
            with contextlib.suppress(OSError):
                local.unlink()
            if size != self.sizes.big:
                return f"wrong result: local file has {size} bytes, expected {self.sizes.big}"
        if workload == "rename":
            moved = self._call(setup, "count", prefix=args["dst"])
            left = self._call(setup, "count", prefix=args["src"])
            self._call(setup, "delete_prefix", prefix=args["src"].rsplit("src/", 1)[0])
            if moved != self.sizes.n_rename or left != 0:
                return (
                    f"wrong result: {moved} keys at the target, {left} left at the source,"
                    f" expected {self.sizes.n_rename} and 0"
                )
        return None

    def _run_workload(
        self,
        workload: wl.Workload,
        workers: dict[str, Worker],
        setup: Worker,
        server_cpu: ServerCpu,
        config_path: Path,
        log_dir: Path,
        work: Path,
        local: Path,
    ) -> dict[str, Any]:
        rounds = 1 if workload.group == "memory" else self.sizes.rounds
        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in self.contenders}
        errors: dict[str, str] = {}
        self.log(f"{workload.name}: {workload.label(self.sizes)}")
        for rnd in range(rounds):
            shift = rnd % len(self.contenders)
            order = self.contenders[shift:] + self.contenders[:shift]
            for name in order:
                if name in errors:
                    continue  # a contender that failed a workload is not retried
                args = self._args(workload.name, name, rnd, work, local)
                self._before(workload.name, setup, args)
                waited = server_cpu.wait_idle()
                if waited > 1.0:
                    self.log(f"  (waited {waited:.1f} s for the server to finish background work)")
                cpu0 = server_cpu.seconds()
                if workload.group == "memory":
                    answer = run_memory(
                        name,
                        self.pythons.get(name, sys.executable),
                        config_path,
                        workload.name,
                        args,
                        log_dir,
                        self.timeout,
                    )
                else:
                    answer = workers[name].request(
                        {"op": "run", "workload": workload.name, "args": args}, self.timeout
                    )
                answer["server_cpu"] = server_cpu.seconds() - cpu0
                if answer.get("ok"):
                    problem = self._verify(workload.name, setup, args, answer.get("check"))
                    if problem:
                        answer = {"ok": False, "error": problem}
                if not answer.get("ok"):
                    errors[name] = answer.get("error", "failed")
                    self.log(f"  {name}: ERROR {errors[name]}")
                    continue
                runs[name].append(answer)
                shown = (
                    f"{answer['value']:.1f} MiB"
                    if workload.unit == "MiB"
                    else f"{answer['seconds']:.3f} s"
                )
                self.log(
                    f"  {name}: {shown} (client CPU {answer.get('cpu', float('nan')):.2f} s,"
                    f" server CPU {answer['server_cpu']:.2f} s)"
                )
        cells: dict[str, Any] = {}
        for name in self.contenders:
            if name in errors:
                cells[name] = {"error": errors[name], "runs": runs[name]}
                continue
            values = [r["value"] if workload.unit == "MiB" else r["seconds"] for r in runs[name]]
            cells[name] = {
                "median": statistics.median(values),
                "runs": values,
                "client_cpu": statistics.median(r.get("cpu", float("nan")) for r in runs[name]),
                "server_cpu": statistics.median(r["server_cpu"] for r in runs[name]),
                "seconds": statistics.median(r["seconds"] for r in runs[name]),
            }
        return cells

    def _profile_misses(
        self,
        kind: str,
        cells: dict[str, Any],
        workers: dict[str, Worker],
        setup: Worker,
        work: Path,
        local: Path,
    ) -> dict[str, str]:
        import report

        misses = report.missed_workloads(cells)
        misses += [n for n in self.options.profile_workloads if n in cells and n not in misses]
        if not misses or wl.BASELINE not in workers:
            return {}
        folder = self.out / "profiles"
        folder.mkdir(parents=True, exist_ok=True)
        profiles = {}
        for name in misses:
            workload = wl.WORKLOAD_BY_NAME[name]
            if workload.group == "memory":
                continue
            self.log(f"profiling aios3path on {name}")
            args = self._args(name, wl.BASELINE, 99, work, local)
            self._before(name, setup, args)
            path = folder / f"{kind}-{name}.txt"
            worker = workers[wl.BASELINE]
            if not worker.alive:
                worker.start()
            answer = worker.request(
                {"op": "profile", "workload": name, "args": args, "out": str(path)},
                self.timeout,
            )
            if not answer.get("ok"):
                self.log(f"  profile failed: {answer.get('error')}")
                continue
            self._verify(name, setup, args, answer.get("check"))
            profiles[name] = str(path.relative_to(self.out))
            # A second, plain run with py-spy watching every thread (aiofiles' and the
            # default executor's threads, which pyinstrument does not see).
            args = self._args(name, wl.BASELINE, 98, work, local)
            self._before(name, setup, args)
            spy = PySpy(worker.proc.pid if worker.proc else None, folder / f".{name}.pyspy")
            answer = worker.request({"op": "run", "workload": name, "args": args}, self.timeout)
            threads = spy.finish()
            if answer.get("ok"):
                self._verify(name, setup, args, answer.get("check"))
                if threads:
                    with open(path, "a", encoding="utf-8") as f:
                        f.write(
                            f"\n{threads}(that run: wall {answer['seconds']:.3f} s, "
                            f"process CPU {answer['cpu']:.3f} s)\n"
                        )
        return profiles


class PySpy:
    """``py-spy record`` of a worker's every thread (on-CPU samples) while it is profiled."""

    def __init__(self, pid: int | None, raw: Path) -> None:
        self.raw, self.proc = raw, None
        here = str(Path(sys.executable).parent)
        spy = shutil.which("py-spy", path=here) or shutil.which("py-spy")
        if pid is None or spy is None:
            return
        self.proc = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--threads",
                "--rate",
                "250",
                "--nonblocking",
                "--format",
                "raw",
                "-o",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # attached before the run starts

    def finish(self) -> str:
        if self.proc is None:
            return ""
        self.proc.send_signal(2)  # SIGINT: py-spy writes its file and exits
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return ""
        try:
            text = self.raw.read_text(encoding="utf-8")
        except OSError:
            return ""
        finally:
            with contextlib.suppress(OSError):
                self.raw.unlink()
        return summarize_pyspy(text)


def summarize_pyspy(text: str) -> str:
    """On-CPU samples per thread and the hottest leaf functions over all threads."""
    threads: dict[str, int] = {}
    leaves: dict[str, int] = {}
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        thread = re.sub(r"^thread \(\d+\): ", "", frames[0])
        threads[thread] = threads.get(thread, 0) + int(count)
        leaf = f"{thread.split(' ')[0]}: {frames[-1]}"
        leaves[leaf] = leaves.get(leaf, 0) + int(count)
    total = sum(threads.values())
    if not total:
        return ""
    lines = [
        "## All threads (py-spy, on-CPU samples at 250 Hz, one plain run; "
        "includes its untimed gc.collect())",
        "",
    ]
    merged: dict[str, int] = {}
    for thread, n in threads.items():  # ThreadPoolExecutor-0_3 -> ThreadPoolExecutor-0_*
        key = re.sub(r"_\d+\b", "_*", thread)
        merged[key] = merged.get(key, 0) + n
    for thread, n in sorted(merged.items(), key=lambda kv: -kv[1]):
        lines.append(f"{n / 250:8.3f} s {100 * n / total:5.1f} %  {thread}")
    lines += ["", "Top 20 leaf functions (thread: function)"]
    for leaf, n in sorted(leaves.items(), key=lambda kv: -kv[1])[:20]:
        lines.append(f"{n / 250:8.3f} s {100 * n / total:5.1f} %  {leaf}")
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark aios3path against s3path, s3fs, obstore and raw aiobotocore "
        "on a local S3 server (127.0.0.1).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one round: a smoke test (about 2 minutes)",
    )
    parser.add_argument(
        "--server",
        "--servers",
        dest="servers",
        default="seaweedfs",
        help="comma-separated: seaweedfs (default), moto",
    )
    parser.add_argument("--rounds", type=int, help="rounds per workload (default 3; quick: 1)")
    parser.add_argument(
        "--workloads",
        "--only",
        dest="workloads",
        help="comma-separated workload names (default: all): "
        + ", ".join(w.name for w in wl.WORKLOADS),
    )
    parser.add_argument(
        "--contenders", help="comma-separated (default: all): " + ", ".join(wl.CONTENDERS)
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default benchmarks/results, quick: benchmarks/results/quick)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds one run may take before its worker is killed",
    )
    parser.add_argument(
        "--profile",
        dest="profile",
        action="store_true",
        default=None,
        help="profile aios3path on every workload that misses a target "
        "(default: on, except with --quick)",
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--profile-workloads",
        default="",
        help="comma-separated workloads to profile whether or not they miss",
    )
    parser.add_argument(
        "--isolate",
        default="",
        help="comma-separated contenders to run from a venv of their own "
        "(benchmarks/.venv-NAME), e.g. s3fs if its aiobotocore pin ever "
        "conflicts with aios3path's",
    )
    parser.add_argument(
        "--python-for",
        action="append",
        default=[],
        metavar="NAME=PYTHON",
        help="run contender NAME's worker with this interpreter",
    )
    parser.add_argument(
        "--no-venv",
        action="store_true",
        help="use the running interpreter instead of benchmarks/.venv",
    )
    options = parser.parse_args(argv)
    options.servers = [s.strip() for s in options.servers.split(",") if s.strip()]
    names = [w.name for w in wl.WORKLOADS]
    options.workloads = (
        [w.strip() for w in options.workloads.split(",")] if options.workloads else names
    )
    unknown = set(options.workloads) - set(names)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    options.contenders = (
        [c.strip() for c in options.contenders.split(",")]
        if options.contenders
        else list(wl.CONTENDERS)
    )
    unknown = set(options.contenders) - set(wl.CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")
    if options.profile is None:
        options.profile = not options.quick
    options.profile_workloads = [
        w.strip() for w in options.profile_workloads.split(",") if w.strip()
    ]
    options.pythons = {}
    for item in options.python_for:
        name, _, python = item.partition("=")
        options.pythons[name] = python
    return options


def main(argv: list[str]) -> int:
    bootstrap(argv)
    options = parse(argv)
    from contenders import REQUIREMENTS

    for name in filter(None, (s.strip() for s in options.isolate.split(","))):
        requirements = [r.format(root=REPO) for r in REQUIREMENTS[name]]
        options.pythons[name] = str(ensure_venv(HERE / f".venv-{name}", requirements, name))
    base = wl.QUICK if options.quick else wl.FULL
    sizes = wl.Sizes(**{**base.as_dict(), **({"rounds": options.rounds} if options.rounds else {})})
    out = options.out or (HERE / "results" / "quick" if options.quick else HERE / "results")
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "profiles", ignore_errors=True)  # profiles of an earlier run mislead
    started = time.time()
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "aios3path_revision": library_revision(),
            "sizes": sizes.as_dict(),
            "quick": options.quick,
            "command": "python benchmarks/run.py " + " ".join(argv),
            "contenders": options.contenders,
            "workloads": options.workloads,
            "interpreters": {n: options.pythons.get(n, sys.executable) for n in options.contenders},
        },
        "servers": {},
    }
    bench = Bench(options, sizes, out)
    for kind in options.servers:
        results["servers"][kind] = bench.run_server(kind)
    results["meta"]["duration_s"] = round(time.time() - started, 1)

    import report

    report.write_all(results, out)
    print(report.render_text(results))
    print(
        f"\nwrote {out / 'results.json'}, {out / 'results.md'}, {out / 'ratios.png'}"
        f" in {results['meta']['duration_s']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
