"""Shared fixtures: every test gets its own database path and a fixed clock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsctl.cli.app import app

DATA = Path(__file__).parent / "data"
SAMPLE_EXPORT = Path(__file__).parent.parent / "demo" / "twilio_console_export.csv"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test touches a real database or depends on the machine's zone."""
    monkeypatch.setenv("SMSCTL_DB", str(tmp_path / "smsctl.db"))
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-04T12:00:00Z")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("SMSCTL_REDACT", raising=False)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "smsctl.db"


class Cli:
    """Runs smsctl commands in-process, as a person would type them."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        return self.runner.invoke(app, list(args), input=input, env=env)

    def ok(self, *args: str, **kwargs):
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (result.exit_code, result.output, result.stderr)
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def pool(cli):
    """A database with main line +14155550100 and three more 415 numbers."""
    cli.ok("init", "--main", "+14155550100")
    for number in ("+14155550101", "+14155550102", "+14155550103"):
        cli.ok("numbers", "add", number)
    return cli


def wait_until_open(process: subprocess.Popen, path: Path, seconds: float = 30) -> None:
    """Wait until ``process`` has ``path`` open: it is past Python's start."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            links = [
                os.readlink(f"/proc/{process.pid}/fd/{fd}")
                for fd in os.listdir(f"/proc/{process.pid}/fd")
            ]
        except OSError:
            links = []
        if str(path) in links:
            return
        time.sleep(0.02)
    pytest.fail(f"{path} was never opened")


def interrupt_smsctl(db_path: Path, *args: str) -> tuple[int, str, str, float]:
    """Run ``python -m smsctl ARGS`` on ``db_path``, send it SIGINT once it
    has the database open and waits, and return its exit code, stdout,
    stderr and the seconds it took to stop after the signal."""
    process = subprocess.Popen(
        [sys.executable, "-m", "smsctl", *args],
        env=dict(os.environ, SMSCTL_DB=str(db_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_open(process, db_path)
    time.sleep(0.5)  # waiting for the write lock by now
    signalled = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=40)
    return process.returncode, out, err, time.monotonic() - signalled
