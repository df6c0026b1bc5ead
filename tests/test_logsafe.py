"""No interaction tokens or members' words in the log at any level: ids only (bot/logsafe.py)."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import BaseModel, ValidationError

from bot.logsafe import PAYLOAD, TOKEN, clean, install

INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXRzZWNyZXRzZWNyZXQ"
SECRET_WORDS = "my knee has been clicking since the marathon"


def record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("discord.http", logging.DEBUG, __file__, 1, msg, args or None, exc_info)


def test_http_debug_line_keeps_the_route_but_not_the_token_or_the_payload() -> None:
    """discord.py's request log: method and route stay, the token in the URL and the JSON body go."""
    url = f"https://discord.com/api/v10/webhooks/1100000000000000001/{INTERACTION_TOKEN}/messages/@original"
    body = json.dumps({"content": SECRET_WORDS, "embeds": []})
    line = clean(record("%s %s with %s has returned %s", "PATCH", url, body, 200)).getMessage()
    assert "PATCH" in line and "/webhooks/1100000000000000001/" + TOKEN in line and "200" in line
    assert INTERACTION_TOKEN not in line and SECRET_WORDS not in line and PAYLOAD in line


def test_gateway_event_dicts_are_replaced() -> None:
    """A whole gateway payload (interaction token, message text) passed as an argument is not written."""
    event = {"t": "INTERACTION_CREATE", "d": {"token": INTERACTION_TOKEN, "data": {"content": SECRET_WORDS}}}
    line = clean(record("For Shard ID %s: WebSocket Event: %s", None, event)).getMessage()
    assert line == f"For Shard ID None: WebSocket Event: {PAYLOAD}"


def test_text_fields_inside_a_plain_message_are_redacted() -> None:
    """Even a message that embeds a payload in its text loses the free-text fields and tokens."""
    line = clean(record(f"sent {{'content': '{SECRET_WORDS}', 'id': 42}} token={INTERACTION_TOKEN}")).getMessage()
    assert SECRET_WORDS not in line and INTERACTION_TOKEN not in line and "'id': 42" in line


def test_exception_text_loses_the_members_input() -> None:
    """A validation error quoting what a member typed is logged without it."""
    class Form(BaseModel):
        weekly: int

    with pytest.raises(ValidationError) as caught:
        Form(weekly=SECRET_WORDS)
    cleaned = clean(record("form failed user=%s", 15, exc_info=(caught.type, caught.value, caught.tb)))
    formatted = logging.Formatter().format(cleaned)
    assert "form failed user=15" in formatted and "ValidationError" in formatted
    assert SECRET_WORDS not in formatted


async def test_discord_gateway_debug_log_holds_no_token_or_words(caplog) -> None:
    """discord.py's own gateway code, at DEBUG, logs every event it receives whole; with the bot's logging
    installed, an interaction's token and a message's text never reach the log."""
    from discord.gateway import DiscordWebSocket

    install()
    caplog.set_level(logging.DEBUG)
    ws = object.__new__(DiscordWebSocket)  # only what received_message touches before it returns
    ws.shard_id, ws._keep_alive, ws.sequence = 0, None, None
    ws.log_receive = lambda _msg: None
    ws._dispatch = lambda *_args: None
    event = {"op": 11, "s": None, "t": "INTERACTION_CREATE",
             "d": {"id": "1234", "token": INTERACTION_TOKEN, "data": {"content": SECRET_WORDS}}}
    await ws.received_message(json.dumps(event))
    assert "WebSocket Event" in caplog.text
    assert INTERACTION_TOKEN not in caplog.text and SECRET_WORDS not in caplog.text


def test_install_is_what_the_bot_runs_at_start_up() -> None:
    """`python -m bot run` installs the cleaning before it logs anything (bot/commands/run.py)."""
    import inspect

    from bot.commands import run

    assert "install()" in inspect.getsource(run.handle)
