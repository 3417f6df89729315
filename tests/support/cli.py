"""Running `watcher` commands in-process, as a user would from a fresh clone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from watcher.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent


def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the shipped config and seeds, as after a clone (no WATCHER_* overrides)."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    monkeypatch.delenv("WATCHER_STORE_URL", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`watcher ARGV...`: (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
