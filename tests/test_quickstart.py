"""The README's quick-start example runs start to finish against its embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "quickstart.py"


def test_quickstart_runs_against_its_embedded_server() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIOS3PATH_"))}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "Started an embedded moto S3 server at http://127.0.0.1:" in result.stdout
    assert "application/json" in result.stdout  # per-prefix parameters reached the write
    assert result.stdout.rstrip().endswith("Done.")
    assert result.stderr == ""


def test_quickstart_needs_a_bucket_for_a_real_endpoint() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--endpoint-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--bucket is required" in result.stderr
