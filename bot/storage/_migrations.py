"""Schema versions of stored documents, and the steps that bring an older document up to date.

Every document the storage writes is an envelope ``{"schema": <int>, ...}``. When a document's
shape changes, bump its collection's version in ``SCHEMA`` and register one step
``from_version -> from_version + 1``; documents are upgraded step by step as the file is loaded, so
callers only ever see the current shape, and the file is rewritten in it at the next flush.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]
Step = Callable[[Doc], Doc]

# The current version of each collection's documents.
SCHEMA: dict[str, int] = {
    "_meta": 1,
    "profiles": 1,
    "plans": 1,
    "checkins": 1,
    "conversations": 1,
    "guilds": 1,
    "audit": 1,
    "tombstones": 1,
    "reminders": 1,
}

# MIGRATIONS[collection][n] turns a version-n document into a version-(n + 1) document.
MIGRATIONS: dict[str, dict[int, Step]] = {name: {} for name in SCHEMA}


class MigrationError(ValueError):
    """A stored document that cannot be brought up to the current schema."""


def pack(value: Any) -> str:
    """Compact JSON, deflated and base64'd: a 30 KB plan becomes a few KB in memory and on disk."""
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def unpack_bytes(text: str) -> bytes:
    """The JSON bytes inside a value made by `pack`."""
    return zlib.decompress(base64.b64decode(text))


def migration(collection: str, from_version: int) -> Callable[[Step], Step]:
    """Register a step that upgrades `collection` documents from `from_version` to the next version."""

    def register(step: Step) -> Step:
        MIGRATIONS[collection][from_version] = step
        return step

    return register


def migrate(collection: str, doc: Doc) -> tuple[Doc, bool]:
    """Bring one document up to the current schema; also says whether anything changed."""
    current = SCHEMA[collection]
    version = doc.get("schema", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise MigrationError(f"{collection}: 'schema' should be a whole number, not {version!r}")
    if version > current:
        raise MigrationError(
            f"{collection}: a document has schema {version}, but this LegDay knows only up to {current}; "
            "it was written by a newer version, so upgrade LegDay rather than lose data"
        )
    changed = False
    while version < current:
        step = MIGRATIONS[collection].get(version)
        if step is None:
            raise MigrationError(f"{collection}: no migration from schema {version} to {version + 1}")
        doc = step(dict(doc))
        version += 1
        doc["schema"] = version
        changed = True
    return doc, changed


# Version 0 is a document written before envelopes existed: the bare value, as plain TinyDB code
# would have inserted it (a Profile dump, a Plan dump, a guild settings dict, ...). Each step below
# wraps it in the version-1 envelope, so a database built by hand or by an early prototype loads.
# Audit entries, conversations and the _meta record came with envelopes, so have no version 0.


@migration("profiles", 0)
def _profiles_v0(doc: Doc) -> Doc:
    doc.pop("schema", None)
    return {"profile": doc, "saved_at": None}


@migration("plans", 0)
def _plans_v0(doc: Doc) -> Doc:
    doc.pop("schema", None)
    return {"rules_version": doc.get("rules_version"), "saved_at": None, "plan_z": pack(doc)}


@migration("checkins", 0)
def _checkins_v0(doc: Doc) -> Doc:
    items = doc.get("items", doc.get("checkins", []))
    return {"items": list(items) if isinstance(items, list) else []}


@migration("guilds", 0)
def _guilds_v0(doc: Doc) -> Doc:
    doc.pop("schema", None)
    return {"settings": doc.get("settings", doc)}


@migration("reminders", 0)
def _reminders_v0(doc: Doc) -> Doc:
    # A bare schedule (the settings dict itself), as an early prototype stored it.
    doc.pop("schema", None)
    return {"reminder": doc.get("reminder", doc)}
