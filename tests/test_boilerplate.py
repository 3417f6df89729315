"""Boilerplate removal: site furniture goes, article sentences (even ones that mention comments) stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.boilerplate import (
    BoilerplateDataError,
    clean_paragraphs,
    find_byline,
    load_patterns,
    normalize,
    patterns,
)

# Sentences that look a little like boilerplate but are article text: they must all survive.
REAL_SENTENCES = [
    "Le ministre n'a fait aucun commentaire sur cet accord de coopération.",
    "Les commentaires des experts ont été recueillis lors de l'atelier.",
    "Partager les données entre États membres est l'objectif du protocole.",
    "Plus d'infos seront communiquées lors de la prochaine réunion à Dakar.",
    "Par ailleurs, le Sénégal a signé un mémorandum avec le Maroc.",
    "Facebook a signé un accord de partenariat avec le Bénin.",
    "Le 29 mai 2024, l'accord a été signé à Marrakech.",
    "Votre avis compte, a déclaré la ministre aux jeunes développeurs.",
    "Lire aussitôt les conclusions du rapport n'est pas possible.",
    "Share capital of the new operator was raised to 10 million dollars.",
    "Les internautes se disent extrêmement satisfaits du nouveau portail.",
]


@pytest.mark.parametrize("sentence", REAL_SENTENCES)
def test_article_sentences_survive(sentence: str) -> None:
    assert clean_paragraphs([sentence]) == [sentence]


@pytest.mark.parametrize("line", [
    "spot_img",
    "SPOT_IMG",
    "Plus d'infos",  # tail heading met before content: dropped itself
    "LAISSER UNE RÉPONSE",
    "SVP, entrez votre commentaire!",
    "Veuillez saisir votre nom ici",
    "Si vous avez aimé ce texte, vous aimerez bien bien d'autres. Rejoignez notre canal Telegram.",
    "Si vous avez aimé cet article, partagez-le.",
    "Disclaimer: You are using Google Translate. The ICESCO is not responsible for the accuracy of the information.",
    "votre avis",
    "Commentaires des utilisateurs",
    "Dans l’ensemble, dans quelle mesure êtes-vous satisfait du site Web ?",
    "Extrêmement insatisfait Extrêmement satisfait",
    "    Extrêmement insatisfait\n    Extrêmement satisfait",  # judged again once joined
    "Articles les plus récents",
    "Partager cet article :",
    "Facebook Twitter WhatsApp",
    "Partager | Email | Imprimer",
    "12 commentaires",
    "Lire aussi : Le Maroc et le Sénégal signent un accord",
    "À lire aussi",
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
    "Save my name, email, and website in this browser for the next time I comment.",
    "Share this:",
    "Subscribe to our newsletter",
    "© 2024 Agence Ecofin. Tous droits réservés.",
    "29 mai 2024",
    "mardi 28 mai 2024 - 10:30",
    "23.07.2023",
    "Publié le 12 mars 2024",
    "Téhéran s’est engagé à former des experts maliens... 23.07.2023, Sputnik Afrique",
    "Par Jean Materne Zambo",
    "\u00a0",
    "- • -",
])
def test_boilerplate_lines_are_dropped(line: str) -> None:
    assert clean_paragraphs([line, "Le Mali et l'Iran ont signé un accord."]) == ["Le Mali et l'Iran ont signé un accord."]


def test_tail_is_cut_after_content() -> None:
    paragraphs = [
        "Le Bénin et le Togo ont signé un accord numérique.",
        "Plus d'infos",
        "A Osiane 2024, l’ARPCE tout feu, tout flamme avec les jeunes filles",
        "Un autre article entièrement différent sur la 5G au Congo.",
    ]
    assert clean_paragraphs(paragraphs) == ["Le Bénin et le Togo ont signé un accord numérique."]


def test_tail_heading_before_content_is_a_menu_entry() -> None:
    paragraphs = ["Articles les plus récents", "Commentaires", "Le texte de l'article.", "Articles les plus récents",
                  "Un teaser."]
    assert clean_paragraphs(paragraphs) == ["Le texte de l'article."]


def test_lines_inside_a_paragraph_are_judged_one_by_one() -> None:
    paragraphs = ["SVP, entrez votre commentaire!\nVeuillez saisir votre nom ici",
                  "Première ligne du texte\n  suite   de la phrase.\nspot_img"]
    assert clean_paragraphs(paragraphs) == ["Première ligne du texte suite de la phrase."]


def test_whitespace_duplicates_and_empties() -> None:
    paragraphs = ["  Un   accord\u00a0signé. ", "", "   ", "Un accord signé.", "UN ACCORD SIGNÉ !", "Autre texte."]
    assert clean_paragraphs(paragraphs) == ["Un accord signé.", "UN ACCORD SIGNÉ !", "Autre texte."]


def test_agency_datelines_are_stripped_not_dropped() -> None:
    paragraphs = ["(Agence Ecofin) - Amr Talaat a rencontré Konstantin Noskov.",
                  "[DIGITAL Business Africa] – Le ministre a parlé coopération."]
    assert clean_paragraphs(paragraphs) == ["Amr Talaat a rencontré Konstantin Noskov.",
                                            "Le ministre a parlé coopération."]


def test_find_byline() -> None:
    assert find_byline(["Un texte.", "Par Jean Materne Zambo", "Plus d'infos"]) == "Jean Materne Zambo"
    assert find_byline(["Par ailleurs, le ministre a parlé."]) is None
    # a byline inside the related-articles tail belongs to another article
    assert find_byline(["Un texte.", "Plus d'infos", "Par Paul Ndong"]) is None


def test_normalize_folds_case_accents_apostrophes_and_spaces() -> None:
    assert normalize("  L’Égypte\u00a0–  COOPÉRATION ") == "l'egypte - cooperation"


def test_shipped_patterns_load_once() -> None:
    assert patterns() is patterns()
    assert patterns().tail and patterns().exact and patterns().prefix and patterns().regex


@pytest.mark.parametrize("content, message", [
    ("regex:\n  - '([unclosed'\n", "regex[0]: bad regular expression"),
    ("colours: [red]\n", "unknown section"),
    ("exact: spot_img\n", "exact: expected a list"),
    ("prefix:\n  - 42\n", "prefix[0]: expected a non-empty string"),
    ("bylines:\n  - 'Par (.+)'\n", "bylines[0]: needs a named group"),
    ("tail: [unclosed\n", "cannot read boilerplate patterns"),
])
def test_bad_pattern_files_name_the_entry(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "patterns.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BoilerplateDataError) as excinfo:
        load_patterns(path)
    assert str(path) in str(excinfo.value)
    assert message in str(excinfo.value)


def test_custom_patterns_are_used(tmp_path: Path) -> None:
    path = tmp_path / "patterns.yaml"
    path.write_text("exact: [Publicité maison]\ntail: [Fin de page]\n", encoding="utf-8")
    pats = load_patterns(path)
    assert clean_paragraphs(["Publicite MAISON", "Texte.", "Fin de page :", "Reste."], pats) == ["Texte."]


# --- properties -----------------------------------------------------------------------------------------

_FRAGMENTS = ["spot_img", "Plus d'infos", "LAISSER UNE RÉPONSE", "votre avis", "Extrêmement insatisfait",
              "Extrêmement satisfait", "(Agence Ecofin) - ", "[DIGITAL Business Africa] – ", "Par Jean Zambo",
              "Facebook", "Twitter", "29 mai 2024", "Commentaires", "Lire aussi", "Partager", "Le Mali",
              "a signé un accord.", "commentaire", "numérique", "\n", "\n", " ", "\u00a0", "-", "Plus", "d'infos"]
_paragraph = st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_paragraph, max_size=8))
def test_cleaning_is_idempotent_and_invents_nothing(paragraphs: list[str]) -> None:
    cleaned = clean_paragraphs(paragraphs)
    assert clean_paragraphs(cleaned) == cleaned
    source_words = set(normalize(" ".join(paragraphs)).split())
    for paragraph in cleaned:
        assert paragraph and paragraph == paragraph.strip() and "\n" not in paragraph
        assert set(normalize(paragraph).split()) <= source_words
