"""`python -m simulator` as a process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def test_cli_prints_listening_line_and_serves():
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--scenario", "quiet", "--seed", "3", "--speed", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("simulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1]
        assert requests.get(url + "/_sim/clock", timeout=5).json()["speed"] == 0.0
        assert requests.get(url + "/_sim/scenario", timeout=5).json()["scenario"]["seed"] == 3
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_refuses_non_loopback_host():
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--host", "0.0.0.0", "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "non-loopback" in result.stderr
