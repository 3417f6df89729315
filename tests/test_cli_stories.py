"""`watcher stories` end to end on the five seeds, in a temp directory, as a new user runs it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support.cli import fresh_clone, run
from watcher.store import open_store
from watcher.store.models import Story

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"id", "date", "title", "published_at", "url", "source", "sources", "copies", "parties", "party_kinds",
        "instrument", "domains", "signed_on", "summary"}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fresh_clone(tmp_path, monkeypatch)


def stories(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    code, out, err = run(capsys, "stories", "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def by_source(rows: list[dict]) -> dict[str, dict]:
    return {r["source"]: r for r in rows if r["source"] != "unknown"}


def test_seeds_show_parties_instruments_and_domains(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "seed")[0] == 0
    rows = stories(capsys)
    assert len(rows) == 5 and all(KEYS == set(r) for r in rows)
    seeds = by_source(rows)
    # The extractor's own precision is tested in test_agreements.py; here: what the command shows.
    assert {"ICESCO", "AICTO"} <= set(seeds["icesco"]["parties"]) and seeds["icesco"]["instrument"] == "agreement"
    assert {"Egypt", "Russian Federation"} <= set(seeds["agence-ecofin"]["parties"])
    assert "cybersecurity" in seeds["agence-ecofin"]["domains"]
    assert {"Iran, Islamic Republic of", "Mali"} <= set(seeds["sputnik-afrique"]["parties"])
    korea = next(r for r in rows if r["source"] == "unknown")
    assert {"Tunisia", "Korea, Republic of"} <= set(korea["parties"]) and korea["instrument"] == "mou"
    assert all(r["summary"] and r["copies"] == 1 for r in rows)


def test_party_and_domain_filters_take_a_users_spelling(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "seed")
    tunisia = stories(capsys, "--party", "tunisie")
    assert len(tunisia) == 2 and all("Tunisia" in r["parties"] for r in tunisia)
    assert stories(capsys, "--party", "Tunisian") == tunisia
    assert [r["source"] for r in stories(capsys, "--party", "l'Égypte")] == ["agence-ecofin"]
    cyber = stories(capsys, "--domain", "cybersécurité")
    assert cyber and all("cybersecurity" in r["domains"] for r in cyber)
    assert stories(capsys, "--party", "tunisie", "--domain", "cybersecurite") == [
        r for r in tunisia if "cybersecurity" in r["domains"]]
    code, out, err = run(capsys, "stories", "--party", "Atlantide", "--format", "json")
    assert code == 0 and json.loads(out) == [] and "'Atlantide' is not in the gazetteer" in err


def test_source_search_since_limit_and_formats(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "seed")
    assert [r["source"] for r in stories(capsys, "--source", "icesco")] == ["icesco"]
    assert [r["source"] for r in stories(capsys, "--search", "EGYPTE")] == ["agence-ecofin"]
    assert len(stories(capsys, "--since", "2024-01-01")) < 5
    assert len(stories(capsys, "--limit", "2")) == 2
    assert stories(capsys, "--subscription", "egypt") == []  # nothing was alerted on: seeds are silent
    code, out, _ = run(capsys, "stories", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(table) == 5 and set(table[0]) == KEYS
    korea = next(r for r in table if r["source"] == "unknown")
    assert "; Korea, Republic of" in korea["parties"] and korea["parties"].startswith("Tunisia; ")  # "; " keeps the comma
    code, out, _ = run(capsys, "stories")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["ID", "DATE", "PARTIES", "INSTRUMENT"] and len(lines) == 6
    assert max(len(line) for line in lines) <= 120
    code, _, err = run(capsys, "stories", "--search", '"unbalanced')
    assert code == 2 and "unbalanced" in err


def test_stories_stored_before_extraction_get_their_agreement(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "seed")
    store = open_store("sqlite:///data/watcher.db")
    with store.session() as session:  # as a store created before this feature: no agreement at all
        for story in session.query(Story):
            story.agreement = None
    store.close()
    rows = stories(capsys)
    assert all(r["parties"] for r in rows)
    code, _, err = run(capsys, "stories", "--refresh", "--format", "json")
    assert code == 0 and "5 agreement(s) extracted again" in err


def test_stories_postgres(workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    monkeypatch.setenv("WATCHER_STORE_URL", pg_url)
    assert run(capsys, "seed")[0] == 0
    assert len(stories(capsys)) == 5
    assert [r["source"] for r in stories(capsys, "--party", "ICESCO")] == ["icesco"]
    assert [r["source"] for r in stories(capsys, "--search", "egypte")] == ["agence-ecofin"]
