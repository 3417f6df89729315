"""Container and service files, checked without a Docker engine: the Dockerfile's build is replayed.

The Dockerfile's COPY sources must exist and survive .dockerignore; the package is installed from a
build context holding exactly what the Dockerfile copies before `pip install`, into a fresh virtualenv
(runtime dependencies come from the project's .venv through a path entry; only the build backend is
resolved by pip, as in the image build), and the entry command is run from there. The HEALTHCHECK
command is run against a local /healthz. The compose
file and the systemd unit are parsed and their commands checked against the real argument parser.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.support.http import LocalServer
from watcher.cli import build_parser
from watcher.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"not exec form: {args}"
    return value


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: anchored at the context root, `*` within one path
    segment, `**` across segments."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _dockerignored(relative: str, patterns: list[str]) -> bool:
    ignored = False
    parts = relative.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern(pattern.lstrip("!").strip("/"))
        # A pattern excludes the path itself or any directory above it.
        if any(regex.match("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            ignored = not negate
    return ignored


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions(ROOT / "Dockerfile")


def _one(instructions: list[tuple[str, str]], keyword: str) -> str:
    values = [args for kw, args in instructions if kw == keyword]
    assert values, f"Dockerfile has no {keyword}"
    return values[-1]  # the last one is the one that counts


def test_dockerfile_shape(dockerfile: list[tuple[str, str]]) -> None:
    assert _one(dockerfile, "FROM") == "python:3.11-slim"
    user = _one(dockerfile, "USER")
    assert user not in ("root", "0") and any(kw == "RUN" and "useradd" in a and user in a for kw, a in dockerfile)
    keywords = [kw for kw, _ in dockerfile]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert _one(dockerfile, "VOLUME") in ("/data", '["/data"]')
    assert _one(dockerfile, "EXPOSE") == "8080"
    assert _exec_form(_one(dockerfile, "ENTRYPOINT")) == ["watcher"]
    assert _exec_form(_one(dockerfile, "CMD")) == ["run", "--http", "0.0.0.0:8080"]
    env = _one(dockerfile, "ENV")
    assert "WATCHER_STORE_URL=sqlite:////data/" in env  # the database lives in the volume
    # The image's command line is one the CLI accepts.
    args = build_parser().parse_args(_exec_form(_one(dockerfile, "CMD")))
    assert args.command == "run" and args.http == ("0.0.0.0", 8080)


def test_copy_sources_exist_and_are_not_dockerignored(dockerfile: list[tuple[str, str]]) -> None:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    copies = [args.split() for kw, args in dockerfile if kw == "COPY"]
    assert copies
    for parts in copies:
        assert not any(p.startswith("--from") for p in parts)
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the build context"
            assert not _dockerignored(source, patterns), f"COPY {source} is excluded by .dockerignore"
    # What the package needs at run time is inside the copied tree and not ignored.
    for needed in ("watcher/migrations/versions/0001_initial_schema.py", "watcher/data/lexicon.yaml"):
        assert not _dockerignored(needed, patterns)
    assert _dockerignored(".venv/bin/python", patterns) and _dockerignored("data/watcher.db", patterns)


def _context_for_install(dockerfile: list[tuple[str, str]], into: Path) -> tuple[Path, str]:
    """Copy what the Dockerfile copies before its `pip install` RUN; returns (context dir, the pip command)."""
    workdir = Path("/")
    for keyword, args in dockerfile:
        if keyword == "WORKDIR":
            workdir = Path(args)
        elif keyword == "COPY":
            *sources, dest = args.split()
            target = into / (workdir / dest).relative_to("/")
            for source in sources:
                src = ROOT / source
                if src.is_dir():
                    shutil.copytree(src, target if not dest.endswith("/") or len(sources) == 1 else target / src.name,
                                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
                else:
                    (target if dest.endswith("/") else target.parent).mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, target / src.name if dest.endswith("/") else target)
        elif keyword == "RUN" and "pip install" in args:
            return into, args
    raise AssertionError("the Dockerfile never runs pip install")


@pytest.fixture(scope="module")
def installed(dockerfile: list[tuple[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv where the package was installed from the Dockerfile's own build context."""
    base = tmp_path_factory.mktemp("image")
    context, command = _context_for_install(dockerfile, base / "root")
    target = shlex.split(command.split("&&")[0])[-1]  # `pip install --no-cache-dir /src`
    source = context / target.lstrip("/")
    assert (source / "pyproject.toml").exists(), f"pip install {target}: not a project directory"
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    # Dependencies from the project's environment (offline); the package itself from the context.
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.check_output([venv / "bin/python", "-c", purelib], text=True).strip())
    (site / "_deps_from_project_venv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # Built exactly as `docker build` does (isolated build backend from the pyproject's build-system,
    # fetched through this machine's pip configuration); only the runtime dependencies are borrowed.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "--quiet",
                    "--no-deps", str(source)], check=True, timeout=180, cwd=base)
    return venv


def _run(venv: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    full_env.update(env or {})
    return subprocess.run([str(venv / "bin/watcher"), *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=full_env)


def test_the_entry_command_exists_after_the_same_install(installed: Path, tmp_path: Path) -> None:
    where = subprocess.check_output([installed / "bin/python", "-c", "import watcher; print(watcher.__file__)"],
                                    text=True, cwd=tmp_path).strip()
    assert where.startswith(str(installed)), f"watcher imported from {where}, not from the installed copy"
    top = _run(installed, "--help", cwd=tmp_path)
    assert top.returncode == 0 and "run" in top.stdout
    run = _run(installed, "run", "--help", cwd=tmp_path)
    assert run.returncode == 0 and "--http" in run.stdout and "--once" in run.stdout
    # The installed copy carries its migrations and data: one daemon pass on an empty SQLite store, in a
    # working directory laid out like the image's /app (the seeds beside the config).
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    config = tmp_path / "watcher.yaml"
    config.write_text('store: {url: "${WATCHER_STORE_URL}"}\n', encoding="utf-8")
    once = _run(installed, "--config", str(config), "run", "--once", "--http", "none", cwd=tmp_path,
                env={"WATCHER_STORE_URL": f"sqlite:///{tmp_path}/data/watcher.db"})
    assert once.returncode == 0, once.stderr
    with sqlite3.connect(tmp_path / "data/watcher.db") as db:  # the first start imported the seeds
        assert db.execute("SELECT count(*) FROM articles WHERE origin = 'seed'").fetchone()[0] == 5


def test_the_image_config_loads_with_the_image_environment(dockerfile: list[tuple[str, str]]) -> None:
    env = dict(part.split("=", 1) for part in shlex.split(_one(dockerfile, "ENV")))
    config = load_config(ROOT / "config/watcher.yaml", env=env)
    assert config.store.url == "sqlite:////data/watcher.db"
    assert env["WATCHER_CONFIG"].startswith("/app/config/")
    assert any(kw == "COPY" and args.split()[-1] in ("./config", "config", "/app/config") for kw, args in dockerfile)


def test_healthcheck_command_follows_healthz(dockerfile: list[tuple[str, str]]) -> None:
    healthcheck = _one(dockerfile, "HEALTHCHECK")
    assert "--interval=" in healthcheck
    command = _exec_form(healthcheck.split(" CMD ", 1)[1])
    assert command[0] == "python" and "/healthz" in command[-1]
    state = {"status": 200}
    with LocalServer({"/healthz": lambda r: (state["status"], {"Content-Type": "application/json"}, b"{}")}) as srv:
        def check() -> int:
            env = {**os.environ, "WATCHER_HEALTH_URL": srv.url("/healthz")}
            return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=30).returncode

        assert check() == 0
        state["status"] = 503
        assert check() != 0
    assert subprocess.run([sys.executable, *command[1:]], capture_output=True, timeout=30,
                          env={**os.environ, "WATCHER_HEALTH_URL": "http://127.0.0.1:9/healthz"}).returncode != 0


def test_compose_file_runs_the_image_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    db, app = services["db"], services["watcher"]
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert app["build"] == "." and app["depends_on"]["db"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) >= {v.split(":")[0] for v in db["volumes"] + app["volumes"] if not v.startswith(".")}
    env = app["environment"]
    # ${POSTGRES_PASSWORD:-watcher} as compose expands it without a .env file
    url = env["WATCHER_STORE_URL"].replace("${POSTGRES_PASSWORD:-watcher}", "watcher")
    assert url == "postgresql+psycopg://watcher:watcher@db:5432/watcher"
    assert db["environment"]["POSTGRES_USER"] == "watcher" and db["environment"]["POSTGRES_DB"] == "watcher"
    for secret in ("SMTP_PASSWORD", "SLACK_WEBHOOK_URL"):
        assert env[secret] is None  # passed through from the host, never written here
    assert any(v.endswith(":/app/config:ro") for v in app["volumes"]) and (ROOT / "config").is_dir()
    assert any(str(p).endswith(":8080") for p in app["ports"])
    args = build_parser().parse_args(app["command"])
    assert args.command == "run" and args.http == ("0.0.0.0", 8080)
    config = load_config(ROOT / "config/watcher.yaml", env={"WATCHER_STORE_URL": url})
    assert config.store.url == url


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy/watcher.service", encoding="utf-8")
    service = unit["Service"]
    exec_start = shlex.split(service["ExecStart"])
    assert exec_start[0].endswith("/watcher")
    args = build_parser().parse_args(exec_start[1:])
    assert args.command == "run" and args.http == ("127.0.0.1", 8080)
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) > 10
    assert "-HUP" in service["ExecReload"] and service["User"] not in ("root", "0")
    assert service["Restart"] == "on-failure" and unit["Install"]["WantedBy"] == "multi-user.target"
