"""Deduplication end to end, as a user sees it: seeds, then two fixture sites polled with `watcher poll`.

Site A republishes a seed, carries a story that site B rewrites, later reposts an item with tracking
parameters and corrects a title. Each story must come out exactly once, with its copies listed.
"""

from __future__ import annotations

import json
import shutil
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.support.http import LocalServer
from watcher.cli import main
from watcher.clock import now
from watcher.seeds import parse_seed

ROOT = Path(__file__).resolve().parent.parent
CAMEROON = (
    "Le ministre camerounais des Postes et Télécommunications et l’ambassadeur de Chine à Yaoundé ont signé "
    "mardi un mémorandum d’entente sur la cybersécurité. Le texte prévoit la formation de deux cents "
    "ingénieurs camerounais aux métiers de la sécurité des réseaux et la création d’un centre national de "
    "réponse aux incidents informatiques.\n\n"
    "Selon le ministère, ce partenariat s’inscrit dans la stratégie nationale de transformation numérique "
    "du Cameroun. Huawei et l’Agence nationale des technologies de l’information et de la communication "
    "(ANTIC) seront chargés de la mise en œuvre du programme de coopération, qui couvre aussi la protection "
    "des infrastructures critiques et l’échange d’informations sur les menaces.\n\n"
    "Les deux parties se retrouveront en juin à Pékin pour faire le point sur l’avancement du projet et "
    "étudier l’extension de l’accord à l’intelligence artificielle et aux centres de données."
)
CAMEROON_REWRITE = (
    "Yaoundé et Pékin renforcent leur coopération numérique : un protocole d’accord sur la cybersécurité a "
    "été paraphé cette semaine par le ministre des Postes et Télécommunications et l’ambassadeur chinois.\n\n"
    + CAMEROON.split("\n\n", 1)[1]
    + "\n\nCet accord intervient après plusieurs attaques informatiques contre des administrations publiques."
)
BENIN = (
    "Le Bénin et le Rwanda ont signé à Kigali un accord de coopération dans le domaine des "
    "télécommunications. Les deux pays vont partager leurs expériences sur le déploiement de la 5G, de la "
    "fibre optique et des services numériques de l’administration.\n\n"
    "Le ministre béninois du Numérique a salué un partenariat « stratégique » qui permettra aux start-up des "
    "deux pays d’accéder plus facilement aux marchés de la sous-région. Un comité conjoint suivra la mise "
    "en œuvre de la feuille de route commune dès le mois prochain."
)


def item(guid: str, link: str, title: str, body: str) -> str:
    html = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
    return (f"<item><title>{escape(title)}</title><link>{escape(link)}</link><guid isPermaLink=\"false\">{guid}</guid>"
            f"<pubDate>{format_datetime(now())}</pubDate><description>{escape(body[:150])}</description>"
            f"<content:encoded><![CDATA[{html}]]></content:encoded></item>")


def feed(*items: str) -> tuple[int, dict[str, str], bytes]:
    xml = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
           '<link>https://example.org/</link><description>d</description>' + "".join(items) + "</channel></rss>")
    return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, xml.encode()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    with LocalServer() as server:
        (tmp_path / "watcher.yaml").write_text(
            "sources:\n"
            f"  - {{name: site-a, kind: feed, url: '{server.url('/a.xml')}', robots: false}}\n"
            f"  - {{name: site-b, kind: feed, url: '{server.url('/b.xml')}', robots: false}}\n",
            encoding="utf-8",
        )
        yield server


def stories(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    assert main(["--config", "watcher.yaml", "articles", "--status", "all", "--format", "json", "--limit", "0", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_each_story_once_with_its_copies(site: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    mali = parse_seed(ROOT / "seeds" / "002_d33817892b0c3bcc.txt")
    republished = mali.body + "\n\nCet article a été initialement publié par Sputnik Afrique."
    site.routes["/a.xml"] = feed(
        item("a-1", "https://site-a.example/iran-mali", "Télécoms : l'Iran va former des experts maliens", republished),
        item("a-2", "https://site-a.example/cameroun-chine", "Cameroun–Chine : un mémorandum sur la cybersécurité", CAMEROON),
        item("a-3", "https://site-a.example/benin-rwanda", "Le Bénin et le Rwanda signent un accord sur la 5G", BENIN),
    )
    site.routes["/b.xml"] = feed(
        item("b-1", "https://site-b.example/2024/yaounde-pekin", "Yaoundé et Pékin s'allient contre les cyberattaques", CAMEROON_REWRITE),
    )
    assert main(["--config", "watcher.yaml", "seed"]) == 0
    assert main(["--config", "watcher.yaml", "poll"]) == 0
    capsys.readouterr()

    rows = stories(capsys)
    assert len(rows) == 5 + 2  # the seeds, Cameroon–China, Benin–Rwanda; the Mali republication joined its seed
    by_title = {r["title"]: r for r in rows}
    seed_row = next(r for r in rows if r["url"] and "sputniknews" in r["url"])
    assert seed_row["copies"] == 2 and set(seed_row["sources"]) == {"sputnik-afrique", "site-a"}
    cameroon = next(r for r in rows if "Cameroun" in r["title"] or "Yaoundé" in r["title"])
    assert cameroon["copies"] == 2 and set(cameroon["sources"]) == {"site-a", "site-b"}
    assert by_title["Le Bénin et le Rwanda signent un accord sur la 5G"]["copies"] == 1
    assert len(stories(capsys, "--all-copies")) == 5 + 4

    # Later: site A reposts the Cameroon item with tracking parameters and corrects the Benin title.
    site.routes["/a.xml"] = feed(
        item("a-2-again", "https://site-a.example/cameroun-chine?utm_source=rss&utm_medium=feed#comments",
             "Cameroun–Chine : un mémorandum sur la cybersécurité", CAMEROON),
        item("a-3", "https://site-a.example/benin-rwanda", "Le Bénin et le Rwanda signent un accord sur la 5G et la fibre", BENIN),
    )
    assert main(["--config", "watcher.yaml", "poll", "--all"]) == 0
    capsys.readouterr()
    rows = stories(capsys)
    assert len(rows) == 7
    assert len(stories(capsys, "--all-copies")) == 9  # nothing new was stored
    titles = {r["title"] for r in rows}
    assert "Le Bénin et le Rwanda signent un accord sur la 5G et la fibre" in titles
    assert "Le Bénin et le Rwanda signent un accord sur la 5G" not in titles
