"""Seed parsing: golden expectations per seed (tests/data/seeds/*.yaml), no surviving boilerplate, bad files."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from watcher.boilerplate import clean_paragraphs, normalize
from watcher.seeds import (
    SeedArticle,
    SeedError,
    derive_title,
    detect_source,
    first_sentence,
    iter_seeds,
    load_rules,
    parse_seed,
    parse_text,
    read_text,
    unglue,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLDEN = ROOT / "tests" / "data" / "seeds"
GOLDEN_FILES = sorted(p for p in GOLDEN.glob("*.yaml") if not p.name.startswith("_"))
BOILERPLATE = yaml.safe_load((GOLDEN / "_boilerplate.yaml").read_text(encoding="utf-8"))["strings"]


def _seed_for(golden: Path) -> Path:
    return SEEDS / (golden.stem + ".txt")


def test_every_seed_has_golden_expectations() -> None:
    seeds = {p.stem for p in SEEDS.glob("*.txt")}
    assert seeds, "no seed files found"
    assert seeds == {p.stem for p in GOLDEN_FILES}


@pytest.mark.parametrize("golden", GOLDEN_FILES, ids=lambda p: p.stem)
def test_seed_matches_golden(golden: Path) -> None:
    want = yaml.safe_load(golden.read_text(encoding="utf-8"))
    article = parse_seed(_seed_for(golden))

    assert article.name == golden.stem
    assert article.guid == f"seed:{golden.stem}"
    assert article.source == want["source"]
    assert article.url == want["url"]
    expected_date = want["published_at"]
    if expected_date is None:
        assert article.published_at is None
    else:
        assert article.published_at == datetime.combine(date.fromisoformat(expected_date), datetime.min.time(),
                                                        tzinfo=timezone.utc)
        assert article.published_at.utcoffset() is not None
    assert article.date_basis == want["date_basis"]
    assert article.title == want["title"]
    assert article.author == want["author"]

    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == want["paragraphs"]
    assert all(p == p.strip() and p and "\n" not in p for p in paragraphs)
    first, last = want["first_sentence"], want["last_sentence"]
    # The expected sentences must be whole sentences at the very start and end of the body.
    assert article.body.startswith(first) and article.body[len(first):len(first) + 1] in ("", " ", "\n")
    assert article.body.endswith(last)
    assert len(article.body) == len(last) or article.body[-len(last) - 1] in (" ", "\n")
    assert first_sentence(article.body) == first
    for fragment in want.get("contains", []):
        assert fragment in article.body


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.stem)
def test_no_boilerplate_survives(seed: Path) -> None:
    article = parse_seed(seed)
    for text, field in ((article.title, "title"), (article.body, "body")):
        folded = normalize(text)
        leftovers = [s for s in BOILERPLATE if normalize(s) in folded]
        assert not leftovers, f"{seed.name} {field} keeps boilerplate {leftovers}"


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.stem)
def test_clean_body_is_stable_under_cleaning(seed: Path) -> None:
    paragraphs = parse_seed(seed).body.split("\n\n")
    assert clean_paragraphs(paragraphs) == paragraphs


def test_seeds_are_deterministic() -> None:
    first = [a for a in iter_seeds(SEEDS)]
    second = [a for a in iter_seeds(SEEDS)]
    assert all(isinstance(a, SeedArticle) for a in first)
    assert first == second
    assert [a.name for a in first] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert len({a.guid for a in first}) == len(first)


# --- bad and unusual files ------------------------------------------------------------------------------

def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def test_bad_files_give_named_errors_and_others_still_parse(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "003_d8352d572f7ae4ff.txt", tmp_path / "003_d8352d572f7ae4ff.txt")
    _write(tmp_path, "010_empty.txt", b"")
    _write(tmp_path, "011_blank.txt", b"  \n\n\t\n")
    _write(tmp_path, "012_binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin1 = "Le Sénégal et la Côte d'Ivoire signent un accord numérique\n\nLe protocole d'accord prévoit la coopération en cybersécurité à Dakar.\n"
    _write(tmp_path, "013_latin1.txt", latin1.encode("latin-1"))
    _write(tmp_path, "014_undecodable.txt", b"Accord sign\xe9 \x81\x8d\x90 entre les \xc3(parties.\n")
    _write(tmp_path, "015_control.txt", b"Accord\x01\x02\x03 sign\xc3\xa9 entre les parties.\n")
    _write(tmp_path, ".hidden.txt", b"")

    results = {r.name if isinstance(r, SeedArticle) else r.path.name: r for r in iter_seeds(tmp_path)}
    assert list(results) == sorted(results)  # sorted by name
    assert ".hidden.txt" not in results

    for name, reason in [("010_empty.txt", "empty"), ("011_blank.txt", "empty"), ("012_binary.txt", "binary"),
                         ("014_undecodable.txt", "undecodable"), ("015_control.txt", "binary")]:
        error = results[name]
        assert isinstance(error, SeedError), name
        assert error.path == tmp_path / name
        assert reason in error.reason
        assert name in str(error)

    latin = results["013_latin1"]
    assert isinstance(latin, SeedArticle)
    assert latin.title == "Le Sénégal et la Côte d'Ivoire signent un accord numérique"
    assert latin.body == "Le protocole d'accord prévoit la coopération en cybersécurité à Dakar."
    assert latin.source == "unknown"

    assert isinstance(results["003_d8352d572f7ae4ff"], SeedArticle)
    assert results["003_d8352d572f7ae4ff"] == parse_seed(SEEDS / "003_d8352d572f7ae4ff.txt")


def test_parse_seed_raises_named_errors(tmp_path: Path) -> None:
    empty = _write(tmp_path, "empty.txt", b"")
    with pytest.raises(SeedError, match="empty.txt: empty file"):
        parse_seed(empty)
    only_boilerplate = _write(tmp_path, "furniture.txt", "spot_img\n\nvotre avis\n\nPlus d'infos\n".encode())
    with pytest.raises(SeedError, match="furniture.txt: no article text"):
        parse_seed(only_boilerplate)
    with pytest.raises(SeedError, match="missing.txt"):
        parse_seed(tmp_path / "missing.txt")
    with pytest.raises(SeedError, match="seed directory not found"):
        list(iter_seeds(tmp_path / "nowhere"))


def test_decoding_variants(tmp_path: Path) -> None:
    text = "Titre numérique\n\nUn accord signé à Tunis.\n"
    assert read_text(_write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + text.encode())) == text
    assert read_text(_write(tmp_path, "utf16.txt", text.encode("utf-16"))) == text
    assert read_text(_write(tmp_path, "crlf.txt", text.replace("\n", "\r\n").encode())) == text
    assert read_text(_write(tmp_path, "cp1252.txt", "Titre – l’accord\n".encode("cp1252"))) == "Titre – l’accord\n"


# --- header, dates and titles ---------------------------------------------------------------------------

def _parse(tmp_path: Path, text: str, name: str = "x.txt") -> SeedArticle:
    return parse_text(tmp_path / name, text)


def test_header_with_url_and_exact_day(tmp_path: Path) -> None:
    article = _parse(tmp_path, " date 2024-03-05 https://www.agenceecofin.com/a/b\n\nUn titre court\n\nLe texte.\n")
    assert article.url == "https://www.agenceecofin.com/a/b"
    assert article.source == "agence-ecofin"
    assert article.published_at == datetime(2024, 3, 5, tzinfo=timezone.utc)
    assert article.date_basis == "header"
    assert (article.title, article.body) == ("Un titre court", "Le texte.")


def test_exact_date_contradicting_header_month_is_ignored(tmp_path: Path) -> None:
    article = _parse(tmp_path, " date 2024-03\nUn titre court\n\n12 avril 2024\n\nLe texte.\n")
    assert article.published_at == datetime(2024, 3, 1, tzinfo=timezone.utc)
    assert article.date_basis == "header"
    assert "avril" not in article.body  # the date line is page furniture either way


def test_bad_header_month_gives_no_date(tmp_path: Path) -> None:
    article = _parse(tmp_path, " date 2024-13 https://example.org/x\nUn titre court\n\nLe texte.\n")
    assert article.published_at is None and article.date_basis is None
    assert article.url == "https://example.org/x"


def test_url_date_and_event_dates(tmp_path: Path) -> None:
    article = _parse(tmp_path, " date 2023-07 https://fr.sputniknews.africa/20230711/x.html\nTitre\n\n"
                               "La réunion du 3 juillet 2023 a eu lieu.\n")
    assert (article.published_at, article.date_basis) == (datetime(2023, 7, 11, tzinfo=timezone.utc), "url")
    event_only = _parse(tmp_path, "Titre d'article\n\nLa réunion s'est tenue le 3 juillet 2023 à Dakar.\n")
    assert event_only.published_at is None


def test_header_text_form_derives_title(tmp_path: Path) -> None:
    article = _parse(tmp_path, " date 2020-01 (Agence Ecofin) - Le Bénin et le Togo ont signé un accord. Suite.\n")
    assert article.title == "Le Bénin et le Togo ont signé un accord"
    assert article.body == "Le Bénin et le Togo ont signé un accord. Suite."
    assert article.source == "agence-ecofin"


def test_derived_title_is_cut_at_a_word_boundary() -> None:
    sentence = ("Le ministre de l'Économie numérique du Sénégal a signé avec son homologue marocain un "
                "protocole d'accord portant sur la cybersécurité, la 5G et la formation.")
    title = derive_title(sentence)
    assert len(title) <= 110 and title.endswith("…")
    assert sentence.startswith(title[:-1])
    assert sentence[len(title) - 1] == " "  # the cut falls between words
    assert title.split()[-1].rstrip("…") not in {"de", "la", "le", "sur", "un", "et"}


def test_first_sentence_skips_abbreviations() -> None:
    assert first_sentence("M. Ben Neji a signé. Puis il est parti.") == "M. Ben Neji a signé."
    assert first_sentence("Dr. AlMalik a parlé. Fin.") == "Dr. AlMalik a parlé."
    assert first_sentence("Sans point final") == "Sans point final"


@pytest.mark.parametrize("glued, fixed", [
    ("la 5G.Cet engagement", "la 5G. Cet engagement"),
    ("mercredi 19 juillet.La rencontre", "mercredi 19 juillet. La rencontre"),
    ("en 2022.Les visites", "en 2022. Les visites"),
    ("des chefs de diplomatieLe numérique", "des chefs de diplomatie Le numérique"),
    ("M.Dupont est venu", "M.Dupont est venu"),
    ("les U.S.A et l'UE", "les U.S.A et l'UE"),
    ("version 3.5 livrée", "version 3.5 livrée"),
    ("voir www.Example.com ici", "voir www.Example.com ici"),
    ("Dr Salim AlMalik sur WhatsApp et LinkedIn", "Dr Salim AlMalik sur WhatsApp et LinkedIn"),
])
def test_unglue(glued: str, fixed: str) -> None:
    assert unglue(glued) == fixed


@pytest.mark.parametrize("url, text, source", [
    ("https://www.digitalbusiness.africa/x", "", "digital-business-africa"),
    ("https://www.agenceecofin.com/x", "", "agence-ecofin"),
    ("https://icesco.org/fr/x", "", "icesco"),
    ("https://fr.sputniknews.africa/x", "", "sputnik-afrique"),
    (None, "[DIGITAL Business Africa] – Le ministre", "digital-business-africa"),
    (None, "Publié par Digital Business Africa", "digital-business-africa"),
    (None, " date 2019-06 (Agence Ecofin) - Amr Talaat", "agence-ecofin"),
    (None, "Disclaimer: You are using Google Translate. The ICESCO is not responsible for the accuracy", "icesco"),
    (None, "L’ICESCO et l’AICTO ont signé un accord de coopération.", "unknown"),
    (None, "un teaser... 23.07.2023, Sputnik Afrique", "sputnik-afrique"),
    ("https://example.org/x", "Le Mali et l'Iran coopèrent.", "unknown"),
])
def test_detect_source(url: str | None, text: str, source: str) -> None:
    assert detect_source(url, text) == source


def test_malformed_rules_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("sources:\n  markers:\n    - {pattern: '([', source: x}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.yaml: sources\.markers\[0\]"):
        load_rules(bad)
    bad.write_text("months: [janvier]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.yaml: malformed seed parsing rules"):
        load_rules(bad)
