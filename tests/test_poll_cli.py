"""`watcher poll` and `watcher sources` as a user runs them, against the fixture sites on a loopback server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.http import LocalServer
from tests.support.sites import SITE_NAMES, mount
from watcher.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def server(shared_server: LocalServer) -> LocalServer:
    shared_server.routes.clear()
    shared_server.requests.clear()
    return shared_server


def write_config(tmp_path: Path, sources: list[dict[str, Any]]) -> str:
    path = tmp_path / "watcher.yaml"
    path.write_text(yaml.safe_dump({
        "store": {"url": f"sqlite:///{tmp_path}/watcher.db"},
        "defaults": {"per_host": 4},
        "sources": sources,
    }, allow_unicode=True), encoding="utf-8")
    return str(path)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(table: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in table.splitlines()[1:] if line.strip()}


def test_poll_stores_all_four_sites_then_nothing_is_due(server: LocalServer, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    sites = {name: mount(server, name) for name in SITE_NAMES}
    config = write_config(tmp_path, [s.source for s in sites.values()])
    code, out, err = run_cli(capsys, "--config", config, "poll")
    assert code == 0, err
    table = rows_of(out.split("\n\n")[0])
    for name, site in sites.items():
        assert name in table, out
        source, status, new, seen, errors = table[name][:5]
        assert (status, int(new), int(seen), int(errors)) == ("ok", len(site.articles), 0, 0)
    assert "12 new articles, 0 failed" in out
    assert not re.search(r"\[[#.]{30}\]", err)  # no progress bar when stderr is not a terminal

    code, out, _ = run_cli(capsys, "--config", config, "poll")
    assert code == 0 and "no source is due" in out

    code, out, _ = run_cli(capsys, "--config", config, "poll", "--source", "icesco")
    assert code == 0 and "icesco" in out and "agence-ecofin" not in out

    code, out, _ = run_cli(capsys, "--config", config, "poll", "--all", "--format", "json")
    polled = json.loads(out)
    assert {r["source"] for r in polled} == set(SITE_NAMES) and sum(r["new"] for r in polled) == 0


def test_broken_source_shows_in_sources_and_poll_still_exits_0(server: LocalServer, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    ecofin = mount(server, "agence-ecofin")
    server.routes["/broken.xml"] = (500, {}, b"Internal Server Error")
    config = write_config(tmp_path, [ecofin.source, {"name": "broken", "kind": "feed",
                                                      "url": server.url("/broken.xml")}])
    code, out, _ = run_cli(capsys, "--config", config, "poll")
    assert code == 0
    table = rows_of(out)
    assert table["broken"][1] == "error" and table["agence-ecofin"][1] == "ok"
    assert "HTTP 500" in out and "1 failed" in out

    code, out, _ = run_cli(capsys, "--config", config, "sources")
    assert code == 0
    table = rows_of(out)
    assert table["broken"][1] == "failing" and table["agence-ecofin"][1] == "ok"
    assert "HTTP 500" in out and "1 failing: broken" in out
    assert "\x1b[" not in out  # no colour when the output is not a terminal

    code, out, _ = run_cli(capsys, "--config", config, "sources", "--format", "json")
    data = {row["name"]: row for row in json.loads(out)}
    broken = data["broken"]
    assert (broken["state"], broken["failures"], broken["last_error_kind"]) == ("failing", 1, "transient")
    assert server.url("/broken.xml") in broken["last_error"]
    assert broken["next_poll"] and data["agence-ecofin"]["last_success"]
    assert data["agence-ecofin"]["last_error"] is None


def test_sources_before_any_poll(server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ecofin = mount(server, "agence-ecofin")
    config = write_config(tmp_path, [ecofin.source])
    code, out, _ = run_cli(capsys, "--config", config, "sources", "--format", "json")
    assert code == 0
    [row] = json.loads(out)
    assert (row["name"], row["state"], row["failures"], row["last_success"]) == ("agence-ecofin", "new", 0, None)


def test_unknown_source_is_a_usage_error(server: LocalServer, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, [mount(server, "agence-ecofin").source])
    code, _, err = run_cli(capsys, "--config", config, "poll", "--source", "nope")
    assert code == 2 and "nope" in err and "agence-ecofin" in err


def test_invalid_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("sources:\n  - {name: x, kind: gopher, url: 'ftp://nowhere'}\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "--config", str(path), "poll")
    assert code == 2 and "bad.yaml" in err


def test_progress_bar_only_on_a_terminal(server: LocalServer, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from watcher.cli.poll import Progress
    from watcher.pipeline import PollResult

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(2, stream)
        bar(PollResult("a"))
        bar(PollResult("b"))
        bar.close()
    assert "2/2" in tty.getvalue() and "#" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_console_entry_freezes_the_imported_objects_and_main_does_not(tmp_path: Path) -> None:
    """The console entry moves what the imports created out of the collector's reach (gc.freeze);
    main() as tests call it freezes nothing, so their garbage stays collectable."""
    import subprocess
    import sys

    config = tmp_path / "watcher.yaml"
    config.write_text(f'store: {{url: "sqlite:///{tmp_path}/w.db"}}\nsources: []\n')
    script = (
        "import gc\n"
        "from watcher.cli import main\n"
        f"assert main(['--config', {str(config)!r}, 'check-config']) == 0\n"
        "assert gc.get_freeze_count() == 0, gc.get_freeze_count()\n"
        f"assert main(['--config', {str(config)!r}, 'check-config'], freeze=True) == 0\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


@pytest.mark.parametrize("flags, worker", [((), True), (("--no-worker",), False)])
def test_poll_may_start_a_worker_process_unless_told_not_to(server: LocalServer, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            flags: tuple[str, ...], worker: bool) -> None:
    import watcher.cli.poll as poll_command

    asked: list[bool] = []
    real = poll_command.poll_selected

    def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["worker"])
        return real(*args, **kwargs)

    monkeypatch.setattr(poll_command, "poll_selected", recording)
    site = mount(server, "digital-business-africa")
    code, out, err = run_cli(capsys, "--config", write_config(tmp_path, [site.source]), "poll", *flags)
    assert code == 0, err
    assert asked == [worker] and f"{len(site.articles)} new articles, 0 failed" in out
