"""Keep members' words and interaction tokens out of the log, at every level: ids only.

`install()` wraps the logging record factory, so every record of every logger (discord.py's gateway,
HTTP and webhook debug lines included) is cleaned when it is created, before any handler or formatter sees
it: structured payloads (dicts, lists, JSON text) passed as arguments become a placeholder, interaction and
bot tokens in URLs and text are masked, and free-text fields (`content`, `value`, `input_value`...) in
whatever remains, exception text included, are redacted. A log line keeps its shape and its ids.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

PAYLOAD = "<payload redacted>"
TEXT = "<text redacted>"
TOKEN = "<token>"

_TOKEN_PATTERNS = [
    # Webhook and interaction-callback URLs carry the interaction token as a path segment.
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]{20,}"), r"\1" + TOKEN),
    # Interaction tokens are base64 of "interaction:..."; bot tokens have three dot-separated parts.
    (re.compile(r"aW50ZXJhY3Rpb246[A-Za-z0-9_.\-]+"), TOKEN),
    (re.compile(r"[MNO][A-Za-z\d_\-]{23,28}\.[\w\-]{6,7}\.[\w\-]{27,}"), TOKEN),
]
# `"content": "..."`, `'value': '...'`, `input_value='...'`, `token=...`: whatever a person typed, or a secret.
_TEXT_KEYS = r"content|value|input_value|text|description|title|query|token|password|options"
_TEXT_FIELDS = re.compile(
    rf"""(?P<key>["']?(?:{_TEXT_KEYS})["']?\s*[:=]\s*)(?P<val>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}}\]]+)""",
    re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with tokens masked and free-text fields replaced."""
    for pattern, replacement in _TOKEN_PATTERNS:
        text = pattern.sub(replacement, text)
    return _TEXT_FIELDS.sub(lambda m: m.group("key") + TEXT, text)


def _clean_arg(value: Any) -> Any:
    if isinstance(value, dict | list | tuple | set | bytes | bytearray):
        return PAYLOAD
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped.startswith(("{", "[")):
            return PAYLOAD
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def clean(record: logging.LogRecord) -> logging.LogRecord:
    """Clean one record in place (message, arguments, exception text) and return it."""
    if record.args:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        try:
            record.msg = str(record.msg) % tuple(_clean_arg(arg) for arg in args)
        except (TypeError, ValueError):  # a mapping-style or broken format: keep only the template
            record.msg = str(record.msg)
        record.args = None
    record.msg = redact(str(record.msg))
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_installed: list[Any] = []


def install() -> None:
    """Clean every log record from now on, whichever logger or handler it goes to (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return clean(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed.append(previous)
