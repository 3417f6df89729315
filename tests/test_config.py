"""Configuration: the shipped file loads; every kind of mistake gives a located message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from watcher.cli import main
from watcher.config import ConfigError, load_config, parse_duration, parse_size

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((Path(__file__).parent / "data/config/errors.yaml").read_text(encoding="utf-8"))


def test_shipped_config_loads_without_environment() -> None:
    config = load_config(ROOT / "config/watcher.yaml", env={})
    assert [s.name for s in config.sources] == ["digital-business-africa", "agence-ecofin", "icesco", "sputnik-afrique"]
    assert config.store.url == "sqlite:///data/watcher.db"
    assert config.source("icesco").kind == "html" and config.source("icesco").links == "article h3 a"
    assert config.sources[0].interval == timedelta(minutes=30) and config.sources[0].max_bytes == 10 * 1024**2
    # Missing variables make only their notifier unusable, named in the reason.
    assert "SMTP_HOST" in (config.notifiers["newsroom-mail"].unavailable or "")
    assert "SLACK_WEBHOOK_URL" in (config.notifiers["team-slack"].unavailable or "")
    assert {s.name for s in config.subscriptions} >= {"tunisia-digital", "egypt"}


def test_environment_expansion_and_defaults() -> None:
    env = {"SMTP_HOST": "mail.local", "SMTP_USER": "u", "SMTP_PASSWORD": "p4ss", "SLACK_WEBHOOK_URL": "https://hooks.example/x",
           "WATCHER_STORE_URL": "postgresql+psycopg://db/w"}
    config = load_config(ROOT / "config/watcher.yaml", env=env)
    mail = config.notifiers["newsroom-mail"]
    assert mail.host == "mail.local" and mail.password == "p4ss" and mail.unavailable is None
    assert config.store.url == "postgresql+psycopg://db/w"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_located_errors(case: dict, tmp_path: Path) -> None:
    path = tmp_path / "watcher.yaml"
    path.write_text(case["text"], encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    text = "\n".join(caught.value.errors)
    position = 0
    for expected in case["errors"]:
        expected = expected.replace("{file}", str(path))
        found = text.find(expected, position)
        assert found >= 0, f"{expected!r} not in (or out of order):\n{text}"
        position = found


@pytest.mark.parametrize("text,seconds", [("30m", 1800), ("2h", 7200), ("20s", 20), ("1d", 86400), ("500ms", 0.5), (45, 45)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text,size", [("10MB", 10 * 1024**2), ("512KB", 512 * 1024), ("1GB", 1024**3), (2048, 2048), ("100", 100)])
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


def test_check_config_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    assert main(["--config", str(ROOT / "config/watcher.yaml"), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "sources (4)" in out and "UNUSABLE: environment variable SMTP_HOST" in out
    assert main(["--config", str(ROOT / "config/watcher.yaml"), "check-config", "--strict"]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - {name: x, kind: rss, url: 'https://x.example/'}\n", encoding="utf-8")
    assert main(["--config", str(bad), "check-config"]) == 2
    assert f"{bad}:2 sources[0].kind: expected 'feed' or 'html', got 'rss'" in capsys.readouterr().err


def test_watcher_config_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sources: []\n", encoding="utf-8")
    monkeypatch.setenv("WATCHER_CONFIG", str(path))
    assert load_config().path == path


@pytest.mark.parametrize("site", sorted(p.parent.name for p in (ROOT / "tests/data/sites").glob("*/site.yaml")))
def test_shipped_sources_match_the_fixture_sites(site: str) -> None:
    """The selectors users get are the ones the fixture sites prove; only the host differs."""
    fixture = yaml.safe_load((ROOT / "tests/data/sites" / site / "site.yaml").read_text(encoding="utf-8"))["source"]
    shipped = load_config(ROOT / "config/watcher.yaml", env={}).source(site)
    assert shipped.url.endswith(fixture["url"].replace("{{BASE}}", ""))
    for key, value in fixture.items():
        if key != "url":
            got = getattr(shipped, key)
            assert (got.model_dump(exclude_none=True) if hasattr(got, "model_dump") else got) == value, key
