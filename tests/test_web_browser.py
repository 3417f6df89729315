"""The web view as a person uses it: a real `watcher run` daemon on the four fixture sites and the seeds,
driven by Debian's headless Chromium (Selenium + /usr/bin/chromedriver): load the list, filter by a
party through the form, open a story, take screenshots at a phone's width.

Chromium comes from `make browser` (a dependency of `make test`); without it this test skips and says so.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.daemon import ROOT, Daemon, free_port, http_get, wait_for
from tests.support.sites import serve_sites
from watcher.store import open_store
from watcher.store.models import Article

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PHONE = (412, 915)  # CSS pixels of a common Android phone

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
    reason=f"Debian's Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}): run `make browser` as root")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The seeds imported, then `watcher run` polling the fixture sites and serving the web view."""
    with serve_sites() as (_server, sites):
        store_url = f"sqlite:///{tmp_path}/watcher.db"
        config = {
            "store": {"url": store_url}, "seeds": {"path": str(ROOT / "seeds")},
            "defaults": {"timeout": "5s", "per_host": 4, "robots": False, "interval": "10m"},
            "sources": [site.source for site in sites.values()],
            "subscriptions": [{"name": "russie", "any": ["Russie"]}],
        }
        path = tmp_path / "watcher.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        seeded = subprocess.run([sys.executable, "-m", "watcher", "--config", str(path), "seed"], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert seeded.returncode == 0, seeded.stderr
        port = free_port()
        proc = Daemon(path, tmp_path / "daemon.log", "--tick", "1s", http=f"127.0.0.1:{port}")
        expected = sum(len(site.articles) for site in sites.values())
        try:
            wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 30, "the daemon's /healthz")
            wait_for(lambda: _polled(store_url) >= expected, 90, f"the {expected} fixture articles")
            yield {"base": f"http://127.0.0.1:{port}", "sites": sites}
        except BaseException:
            proc.dump()
            raise
        finally:
            proc.stop_quietly()


def _answers(url: str) -> bool:
    try:
        return http_get(url)[0] == 200
    except OSError:  # not listening yet
        return False


def _polled(store_url: str) -> int:
    store = open_store(store_url, migrate=False)
    try:
        with store.session() as session:
            return session.query(Article).filter(Article.origin != "seed").count()
    finally:
        store.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={PHONE[0]},{PHONE[1]}", "--lang=fr-FR"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_list_filter_by_party_open_story_screenshot(daemon: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    base = daemon["base"]
    browser.get(base + "/")
    items = browser.find_elements(By.CSS_SELECTOR, "ol.stories li")
    assert len(items) >= 12, browser.page_source[:2000]  # the fixture stories and the seeds, merged by story
    text = browser.find_element(By.TAG_NAME, "main").text
    for party in ("Tunisia", "ICESCO", "Russian Federation", "Senegal"):
        assert party in text
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    list_png = tmp_path / "stories.png"
    assert browser.save_screenshot(str(list_png)) and png_size(list_png)[0] >= PHONE[0]

    # Filter by a party as a user types it, through the form.
    field = browser.find_element(By.NAME, "party")
    field.send_keys("Russie")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    wait_for(lambda: "party=Russie" in browser.current_url, 10, "the filtered page")
    rows = browser.find_elements(By.CSS_SELECTOR, "ol.stories li")
    assert len(rows) >= 3  # Egypt, Burkina Faso and Algeria with Russia
    assert all("Russian Federation" in row.text for row in rows)
    assert browser.find_element(By.NAME, "party").get_attribute("value") == "Russie"
    titles = [row.find_element(By.CSS_SELECTOR, ".title a").text for row in rows]
    assert any("Burkina" in t for t in titles) and any("Algérie" in t for t in titles)

    # Open the Egyptian story: the seed and the fixture site's article are one story with two copies.
    egypt = next(row for row in rows if "Egypt" in row.text)
    egypt.find_element(By.CSS_SELECTOR, ".title a").click()
    wait_for(lambda: "/stories/" in browser.current_url, 10, "the story page")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Egypt" in main and "Russian Federation" in main and "Copies" in main
    copies = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert len(copies) >= 2 and all("agence-ecofin" in row.text for row in copies)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "table tbody a")]
    assert any(link.startswith(daemon["sites"]["agence-ecofin"].base) for link in links)
    story_png = tmp_path / "story.png"
    assert browser.save_screenshot(str(story_png))
    width, height = png_size(story_png)
    assert width >= PHONE[0] and height > 300 and story_png.stat().st_size > 5000
