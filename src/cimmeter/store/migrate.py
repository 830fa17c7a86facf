"""Schema migrations: ordered SQL files per engine (`migrations/<engine>/NNNN_name.sql`) and a
`schema_version` table holding the versions applied (DECISIONS.md, Libraries)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_FILE = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")

SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "version integer PRIMARY KEY, applied_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations(engine: str) -> tuple[Migration, ...]:
    """The migrations of an engine (`sqlite` or `postgresql`), in version order."""
    folder = resources.files("cimmeter.store") / "migrations" / engine
    found = []
    for entry in folder.iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations of {engine} are not numbered 1..n: {versions}")
    return tuple(found)


def latest_version(engine: str) -> int:
    found = migrations(engine)
    return found[-1].version if found else 0
