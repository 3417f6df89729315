"""`watcher seed` and `watcher articles` end to end, in a temp directory, as a new user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support.cli import fresh_clone, run
from watcher.cli import main

ROOT = Path(__file__).resolve().parent.parent
JSON_KEYS = {"id", "url", "canonical_url", "source", "title", "published_at", "fetched_at", "relevance",
             "story_id", "status", "copies", "sources"}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fresh_clone(tmp_path, monkeypatch)


def articles_json(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    code, out, err = run(capsys, "articles", "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_seed_then_articles_returns_the_five_seeds(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "seed")
    assert code == 0, err
    assert "5 imported" in out
    assert (workdir / "data" / "watcher.db").exists()
    rows = articles_json(capsys)
    assert len(rows) == 5
    for row in rows:
        assert JSON_KEYS <= set(row) and "body" not in row
        assert row["status"] == "relevant" and row["copies"] == 1 and row["story_id"]
    sources = sorted(r["source"] for r in rows)
    assert sources.count("agence-ecofin") == 1 and "sputnik-afrique" in sources and "icesco" in sources
    sputnik = next(r for r in rows if r["source"] == "sputnik-afrique")
    assert sputnik["url"].startswith("https://fr.sputniknews.africa/20230723/")
    full = articles_json(capsys, "--full")
    assert all(r["body"] for r in full)
    assert not any("LAISSER UNE RÉPONSE" in r["body"] or "spot_img" in r["body"] for r in full)


def test_seed_is_idempotent_and_picks_up_new_files(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "seed")[0] == 0
    code, out, _ = run(capsys, "seed")
    assert code == 0 and "0 imported" in out and "5 already present" in out
    assert len(articles_json(capsys)) == 5
    (workdir / "seeds" / "005_new.txt").write_text(
        " date 2024-09\n\nLe Sénégal et le Maroc signent un accord de coopération numérique\n\n"
        "Le ministre sénégalais de la Communication, des Télécommunications et du Numérique et son homologue "
        "marocain ont signé à Rabat un mémorandum d'entente sur la cybersécurité, la transformation numérique "
        "de l'administration et la formation des jeunes aux métiers du numérique. L'accord prévoit des "
        "échanges d'experts et un programme commun sur l'intelligence artificielle.\n",
        encoding="utf-8",
    )
    (workdir / "seeds" / "006_empty.txt").write_text("", encoding="utf-8")
    (workdir / "seeds" / "007_binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    code, out, err = run(capsys, "seed")
    assert code == 0 and "1 imported" in out
    assert "006_empty.txt" in err and "007_binary.txt" in err
    titles = [r["title"] for r in articles_json(capsys)]
    assert "Le Sénégal et le Maroc signent un accord de coopération numérique" in titles


def test_match_folds_accents_and_case(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "seed")
    rows = articles_json(capsys, "--match", "egypte")
    assert len(rows) == 1 and rows[0]["source"] == "agence-ecofin"
    assert len(articles_json(capsys, "--match", "EGYPTE")) == 1
    assert {r["source"] for r in articles_json(capsys, "--match", "Corée")} == {"unknown"}
    assert articles_json(capsys, "--match", "tunique") == []


def test_filters_limit_and_formats(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "seed")
    assert [r["source"] for r in articles_json(capsys, "--source", "icesco")] == ["icesco"]
    since = articles_json(capsys, "--since", "2024-01-01")
    assert since and all((r["published_at"] or r["fetched_at"]) >= "2024-01-01" for r in since)
    assert len(since) < 5  # the 2019 and 2023 seeds are older
    assert len(articles_json(capsys, "--limit", "2")) == 2
    code, out, _ = run(capsys, "articles", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(table) == 5 and JSON_KEYS <= set(table[0])
    code, out, _ = run(capsys, "articles")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("ID") and len(lines) == 6
    assert max(len(line) for line in lines) <= 80
    code, out, _ = run(capsys, "articles", "--explain", "--limit", "1")
    assert code == 0 and "relevance" in out
    with pytest.raises(SystemExit) as usage:  # argparse: a usage error exits 2 and names the value
        main(["articles", "--since", "yesterday-ish"])
    assert usage.value.code == 2 and "yesterday-ish" in capsys.readouterr().err


def test_articles_postgres(workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    monkeypatch.setenv("WATCHER_STORE_URL", pg_url)
    assert run(capsys, "seed")[0] == 0
    assert run(capsys, "seed")[0] == 0
    assert len(articles_json(capsys)) == 5
    assert not (workdir / "data").exists()
