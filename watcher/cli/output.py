"""Rendering rows as an 80-column table, JSON or CSV: the one output path of every listing command."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TextIO


class Column(NamedTuple):
    key: str
    header: str
    width: int | None = None  # None: as wide as the content; the flexible column takes what is left


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return " ".join(str(value).split())


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def render(rows: Sequence[dict[str, Any]], columns: Sequence[Column], fmt: str, out: TextIO, total_width: int = 80) -> None:
    """Write `rows` as `fmt` ("table", "json" or "csv"); JSON and CSV carry every key of the rows."""
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2, default=_json_default)
        out.write("\n")
        return
    if fmt == "csv":
        keys = list(rows[0]) if rows else [c.key for c in columns]
        writer = csv.DictWriter(out, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) if not isinstance(v, str) else v for k, v in row.items()})
        return
    cells = [[_cell(row.get(c.key)) for c in columns] for row in rows]
    widths = [c.width or max([len(c.header)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    flexible = [i for i, c in enumerate(columns) if c.width is None]
    if flexible:  # give the flexible column what the fixed ones leave of the terminal width
        i = flexible[-1]
        fixed = sum(w for j, w in enumerate(widths) if j != i) + 2 * (len(columns) - 1)
        widths[i] = max(len(columns[i].header), min(widths[i], total_width - fixed))
    line = "  ".join(_fit(c.header, w).ljust(w) for c, w in zip(columns, widths))
    out.write(line.rstrip() + "\n")
    for r in cells:
        out.write("  ".join(_fit(v, w).ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")
