"""Configuration: YAML -> validated objects, `${VAR}` expansion, errors located by file, line and key path."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from watcher import clock

DEFAULT_PATH = Path("config/watcher.yaml")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Sizes are binary (10MB = 10 MiB), as users of download limits expect.
_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


class ConfigError(Exception):
    """The configuration is unusable; `errors` are complete "file:line key: message" lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_since(text: str) -> datetime:
    """A point in time given as a date (`2024-05-01`, UTC unless it says otherwise) or as a duration
    back from now (`7d`): the rule of every `--since` and of the web view's `since` filter."""
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    try:
        return clock.now() - parse_duration(text)
    except ValueError:
        raise ValueError(f"expected a date like 2024-05-01 or a duration like 7d, got {text!r}") from None


def parse_duration(value: Any) -> timedelta:
    """`30m`, `2h`, `20s`, `1d`, `500ms`, or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 5m, 2h, got {value!r}")
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration such as 30s, 5m, 2h, got {value!r}")
    amount, unit = float(match.group(1)), (match.group(2) or "s").lower()
    return timedelta(seconds=amount * _DURATION_UNITS[unit])


def parse_size(value: Any) -> int:
    """`10MB`, `512KB`, `1GB`, or a number of bytes."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size such as 512KB or 10MB, got {value!r}")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"expected a size such as 512KB or 10MB, got {value!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


def _check_selector(value: str | None) -> str | None:
    if value is None:
        return None
    import soupsieve

    try:
        soupsieve.compile(value)
    except Exception as exc:  # soupsieve raises SelectorSyntaxError and ValueError
        raise ValueError(f"invalid CSS selector {value!r}: {str(exc).splitlines()[0]}") from None
    return value


Selector = Annotated[str | None, BeforeValidator(_check_selector)]


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", str(value), re.IGNORECASE):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


HttpUrl = Annotated[str, BeforeValidator(_check_http_url)]


class StoreConfig(_Model):
    url: str = "sqlite:///data/watcher.db"


class SeedsConfig(_Model):
    path: str = "seeds"


class Defaults(_Model):
    interval: Duration = timedelta(minutes=30)
    timeout: Duration = timedelta(seconds=20)
    connect_timeout: Duration = timedelta(seconds=10)
    max_bytes: Size = 10 * 1024**2
    concurrency: int = Field(16, ge=1)
    per_host: int = Field(2, ge=1)
    delay: Duration = timedelta(0)  # politeness delay between requests to one host
    max_redirects: int = Field(5, ge=0)
    backoff_cap: Duration = timedelta(hours=24)
    robots: bool = True


class ArticleSelectors(_Model):
    title: Selector = None
    body: Selector = None
    date: Selector = None
    author: Selector = None


class SourceConfig(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["feed", "html"]
    url: HttpUrl
    enabled: bool = True
    interval: Duration | None = None
    timeout: Duration | None = None
    max_bytes: Size | None = None
    robots: bool | None = None
    alert_backlog: bool = False
    headers: dict[str, str] = {}
    links: Selector = None
    next: Selector = None
    max_pages: int = Field(1, ge=1)
    article: ArticleSelectors | None = None
    fetch_article: Literal["auto", "always", "never"] = "auto"

    @model_validator(mode="after")
    def _html_needs_links(self) -> SourceConfig:
        if self.kind == "html" and not self.links:
            raise ValueError("an html source needs `links`, the CSS selector of its article links")
        return self


class _NotifierBase(_Model):
    # Set when a `${VAR}` it uses is missing: the notifier is unusable, the rest of the config is fine.
    _unavailable: str | None = PrivateAttr(default=None)

    @property
    def unavailable(self) -> str | None:
        return self._unavailable


class EmailNotifierConfig(_NotifierBase):
    type: Literal["email"]
    host: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    from_: str = Field(alias="from")
    to: list[str] = []
    timeout: Duration = timedelta(seconds=30)
    templates: str | None = None


class SlackNotifierConfig(_NotifierBase):
    type: Literal["slack"]
    webhook_url: str
    timeout: Duration = timedelta(seconds=15)


class AppriseNotifierConfig(_NotifierBase):
    type: Literal["apprise"]
    urls: list[str]


NotifierConfig = Annotated[
    Union[EmailNotifierConfig, SlackNotifierConfig, AppriseNotifierConfig], Field(discriminator="type")
]


class NotifyTarget(_Model):
    notifier: str
    to: list[str] = []


class SubscriptionConfig(_Model):
    name: str
    any: list[str] = []
    all: list[str] = []
    none: list[str] = []
    sources: list[str] = []
    min_relevance: float | None = None
    digest: str = "immediate"
    max_age: Duration = timedelta(days=7)
    notify: list[NotifyTarget] = []

    @field_validator("any", "all", "none")
    @classmethod
    def _terms_compile(cls, terms: list[str]) -> list[str]:
        from watcher.matching import TermError, parse_term

        for term in terms:
            try:
                parse_term(term)
            except TermError as exc:
                raise ValueError(str(exc)) from None
        return terms

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        if value in ("immediate", "hourly", "daily"):
            return value
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError:
            raise ValueError(f"expected immediate, hourly, daily or a cron line like '0 8 * * *', got {value!r}")
        return value

    @model_validator(mode="after")
    def _has_terms(self) -> SubscriptionConfig:
        if not (self.any or self.all):
            raise ValueError("a subscription needs at least one keyword in `any` or `all`")
        return self


class RelevanceConfig(_Model):
    threshold: float | None = None
    lexicon: str | None = None
    extra: dict[str, list[str]] = {}


class AlertsConfig(_Model):
    max_attempts: int = Field(8, ge=1)
    lease: Duration = timedelta(minutes=5)
    backoff_base: Duration = timedelta(seconds=30)
    backoff_cap: Duration = timedelta(hours=6)


class DaemonConfig(_Model):
    tick: Duration = timedelta(seconds=15)  # how often the daemon claims due sources
    lease: Duration = timedelta(minutes=5)  # how long a claimed source stays claimed without renewal
    batch: int = Field(200, ge=1)  # sources claimed per tick
    dispatch_every: Duration = timedelta(seconds=10)  # alert dispatcher period
    watchdog_ticks: int = Field(3, ge=1)  # unhealthy after this many tick periods without a tick
    # A worker process for the CPU work of a tick with over 1,000 new entries (watcher/prepare.py):
    # faster through a big backlog, ~70 MB more while it runs. Off: a resident daemon keeps its memory.
    worker: bool = False


class RetentionConfig(_Model):
    ignored_body_days: int | None = Field(30, ge=1)


class WebConfig(_Model):
    """The web view on the daemon's HTTP server. Open on a loopback address; anywhere else it needs
    `token` (HTTP basic auth password or `Authorization: Bearer`), or it refuses to serve the pages."""

    token: str | None = None
    base_url: str | None = None  # absolute links in feeds when a proxy serves it elsewhere (https://...)

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is None or value == "":  # `${WATCHER_WEB_TOKEN:-}` unset: no token
            return None
        if len(value) < 16 or value.strip() != value:
            raise ValueError("a web token needs at least 16 characters and no surrounding spaces "
                             "(e.g. the output of `openssl rand -hex 16`)")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return _check_http_url(value).rstrip("/") if value else None


class Config(_Model):
    store: StoreConfig = StoreConfig()
    seeds: SeedsConfig = SeedsConfig()
    defaults: Defaults = Defaults()
    sources: list[SourceConfig] = []
    notifiers: dict[str, NotifierConfig] = {}
    subscriptions: list[SubscriptionConfig] = []
    relevance: RelevanceConfig = RelevanceConfig()
    alerts: AlertsConfig = AlertsConfig()
    retention: RetentionConfig = RetentionConfig()
    daemon: DaemonConfig = DaemonConfig()
    web: WebConfig = WebConfig()
    _path: Path = PrivateAttr(default=DEFAULT_PATH)

    @property
    def path(self) -> Path:
        return self._path

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    @model_validator(mode="after")
    def _apply_defaults(self) -> Config:
        for source in self.sources:
            source.interval = source.interval or self.defaults.interval
            source.timeout = source.timeout or self.defaults.timeout
            source.max_bytes = source.max_bytes or self.defaults.max_bytes
            source.robots = self.defaults.robots if source.robots is None else source.robots
        return self


# ---- loading -------------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _node_lines(node: yaml.Node, path: Path_ = (), lines: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    lines = {} if lines is None else lines
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines[child] = key.start_mark.line + 1
            _node_lines(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, path + (index,), lines)
    return lines


def format_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


def _line_of(lines: dict[Path_, int], path: Path_) -> int:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _expand(value: Any, path: Path_, env: dict[str, str], missing: list[tuple[Path_, str]]) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string; record missing variables by path."""
    if isinstance(value, dict):
        return {k: _expand(v, path + (k,), env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, path + (i,), env, missing) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        missing.append((path, name))
        return ""

    return _ENV_REF.sub(sub, value)


def _describe(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {error['input']!r}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing required key"
    if kind == "union_tag_invalid":
        return f"expected type {ctx.get('expected_tags')}, got {ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return "missing required key 'type'"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def _clean_loc(loc: tuple[Any, ...]) -> Path_:
    # Pydantic puts the union tag into the location of notifier errors; the YAML has no such level.
    loc = tuple(loc)
    if len(loc) > 2 and loc[0] == "notifiers" and loc[2] in ("email", "slack", "apprise"):
        loc = loc[:2] + loc[3:]
    return tuple(p for p in loc if p not in ("function-after[_html_needs_links()]",))


def _cross_checks(config: Config, base_dir: Path) -> list[tuple[Path_, str]]:
    """Checks across sections: unique names, notify targets that exist, a lexicon that loads."""
    problems: list[tuple[Path_, str]] = []
    relevance = config.relevance
    if relevance.lexicon or relevance.extra or relevance.threshold is not None:
        # Only a configured lexicon needs loading here: the bundled one is checked by the tests, and
        # importing and loading it cost every start (a warm `watcher poll` included) ~80 ms.
        from watcher.relevance import Classifier, LexiconError

        try:
            Classifier.from_config(relevance, base_dir=base_dir)
        except LexiconError as exc:
            problems.append((("relevance", "lexicon") if relevance.lexicon else ("relevance",), str(exc)))
    for section, items in (("sources", config.sources), ("subscriptions", config.subscriptions)):
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.name in seen:
                problems.append(((section, index, "name"), f"duplicate name {item.name!r}"))
            seen.add(item.name)
    source_names = {s.name for s in config.sources}
    for index, sub in enumerate(config.subscriptions):
        for j, name in enumerate(sub.sources):
            if name not in source_names:
                problems.append((("subscriptions", index, "sources", j), f"no source named {name!r}"))
        for j, target in enumerate(sub.notify):
            notifier = config.notifiers.get(target.notifier)
            where = ("subscriptions", index, "notify", j, "notifier")
            if notifier is None:
                known = ", ".join(sorted(config.notifiers)) or "none defined"
                problems.append((where, f"no notifier named {target.notifier!r} (known: {known})"))
            elif notifier.type == "email" and not (target.to or notifier.to):
                problems.append((where[:-1] + ("to",), "an email target needs `to` addresses"))
    return problems


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its value, from one parse. libyaml's loader when
    PyYAML has it: a config of 1,000 sources loads in a fraction of the pure-Python parser's time."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Load and validate the config at `path` (default: $WATCHER_CONFIG or config/watcher.yaml)."""
    env = dict(os.environ) if env is None else env
    file = Path(path or env.get("WATCHER_CONFIG") or DEFAULT_PATH)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: cannot read the configuration: {exc}"]) from None
    try:
        node, raw = _parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{file}{line}: invalid YAML: {reason}"]) from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError([f"{file}:1: expected a mapping of sections (store, sources, ...), got {type(raw).__name__}"])
    lines = _node_lines(node) if node is not None else {}

    missing: list[tuple[Path_, str]] = []
    raw = _expand(raw, (), env, missing)
    errors: list[str] = []
    unavailable: dict[str, str] = {}
    for where, var in missing:
        if len(where) >= 2 and where[0] == "notifiers":
            unavailable.setdefault(where[1], f"environment variable {var} is not set (used by {format_path(where)})")
        else:
            errors.append(f"{file}:{_line_of(lines, where)} {format_path(where)}: environment variable {var} is not set")

    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = _clean_loc(error["loc"])
            errors.append(f"{file}:{_line_of(lines, loc)} {format_path(loc)}: {_describe(error)}")
        raise ConfigError(errors) from None
    errors += [f"{file}:{_line_of(lines, p)} {format_path(p)}: {m}" for p, m in _cross_checks(config, file.parent)]
    if errors:
        raise ConfigError(errors)
    config._path = file
    for name, reason in unavailable.items():
        config.notifiers[name]._unavailable = reason
    _register_secrets(config)
    return config


def _register_secrets(config: Config) -> None:
    from watcher.log import register_secret

    register_secret(config.web.token)
    for notifier in config.notifiers.values():
        for field in ("password", "webhook_url"):
            register_secret(getattr(notifier, field, None))
        for url in getattr(notifier, "urls", []):
            register_secret(url)
