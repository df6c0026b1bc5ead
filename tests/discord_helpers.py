"""Offline Discord harness: the real bot, real discord.py objects, and the HTTP layer replaced at its bottom.

Gateway events are fed to the bot's own ConnectionState (INTERACTION_CREATE, MESSAGE_CREATE,
GUILD_CREATE), so the command tree, views and modals in the ViewStore and message listeners all run
as they do live. Every HTTP request discord.py would make reaches one of two `request` methods: the
bot's HTTPClient (channel messages, DMs, command sync, login) and the webhook adapter (interaction
callbacks and follow-ups). Both are replaced by recorders that answer with realistic JSON, and the
tests read back exactly what was sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.client import LegDayBot
from bot.config import Settings

APP_ID = 1100000000000000001
BOT_ID = APP_ID  # a bot user's id is its application's id
GUILD_ID = 1200000000000000001
CHANNEL_ID = 1300000000000000001
OWNER_ID = 1400000000000000001
MEMBER_ID = 1500000000000000001
OTHER_MEMBER_ID = 1500000000000000002
DM_CHANNEL_BASE = 1600000000000000000

EPHEMERAL = 64
# Interaction callback types (Discord API): what a response did.
MESSAGE = 4
DEFERRED = 5
DEFERRED_UPDATE = 6
UPDATE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

# The permissions an ordinary member has in a typical server (view, send, embed, attach, history, ...).
MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True,
    read_message_history=True, use_application_commands=True, add_reactions=True,
)
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True, read_message_history=True,
    send_messages_in_threads=True,
)

_counter = itertools.count(1)


def snowflake(at: dt.datetime | None = None) -> int:
    """A fresh id whose timestamp is `at` (now by default), as Discord's ids carry their creation time."""
    return discord.utils.time_snowflake(at or discord.utils.utcnow()) + next(_counter) % 4096


def iso(at: dt.datetime | None = None) -> str:
    return (at or discord.utils.utcnow()).isoformat()


def user_payload(user_id: int = MEMBER_ID, name: str = "river", *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


BOT_USER = user_payload(BOT_ID, "legday", bot=True)


def member_payload(user: dict[str, Any], permissions: discord.Permissions | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "user": user,
        "roles": [],
        "joined_at": "2024-03-01T09:00:00.000000+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions.value)
    return payload


def text_channel_payload(channel_id: int = CHANNEL_ID, guild_id: int = GUILD_ID) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": "running-chat",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def dm_channel_payload(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(DM_CHANNEL_BASE + int(user["id"]) % 10**12),
        "type": 1,
        "recipients": [user],
        "last_message_id": None,
        "flags": 0,
    }


def guild_payload(guild_id: int = GUILD_ID) -> dict[str, Any]:
    everyone = {
        "id": str(guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS.value),
        "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
    }
    return {
        "id": str(guild_id),
        "name": "Harbour Run Club",
        "icon": None,
        "owner_id": str(OWNER_ID),
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": [text_channel_payload(guild_id=guild_id)],
        "threads": [],
        "members": [member_payload(BOT_USER)],
        "member_count": 120,
        "voice_states": [],
        "presences": [],
        "large": False,
        "unavailable": False,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "system_channel_flags": 0,
        "preferred_locale": "en-US",
        "afk_timeout": 300,
        "application_id": None,
    }


def application_payload() -> dict[str, Any]:
    return {
        "id": str(APP_ID),
        "name": "LegDay",
        "icon": None,
        "description": "Leg strength for runners.",
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user_payload(OWNER_ID, "coach"),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "summary": "",
        "rpc_origins": [],
    }


# ----------------------------------------------------------------------------------------------
# What was sent


@dataclass
class Call:
    """One HTTP request discord.py made: method, the route template and the filled path, the payload."""

    method: str
    route: str
    path: str
    params: dict[str, Any]
    json: Any
    files: dict[str, bytes] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.perf_counter)  # when the bot sent it (for bench/)

    @property
    def data(self) -> dict[str, Any]:
        """The message part: a callback's `data`, or the body itself for messages and follow-ups."""
        body = self.json if isinstance(self.json, dict) else {}
        if self.route.endswith("/callback"):
            return body.get("data") or {}
        return body

    @property
    def type(self) -> int | None:
        """The callback type (4 message, 5 deferred, 7 update, 9 modal) for interaction responses."""
        if self.route.endswith("/callback"):
            return self.json["type"]
        return None

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.data.get("allowed_mentions")

    @property
    def components(self) -> list[dict[str, Any]]:
        """Every component, flattened out of action rows and labels, in order."""
        return list(_walk(self.data.get("components") or []))

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.components if c.get("custom_id")]

    def component(self, custom_id: str) -> dict[str, Any]:
        for item in self.components:
            if item.get("custom_id") == custom_id:
                return item
        raise AssertionError(f"no component {custom_id!r}; have {self.custom_ids}")

    def button(self, label: str) -> dict[str, Any]:
        for item in self.components:
            if item.get("type") == 2 and item.get("label") == label:
                return item
        labels = [c.get("label") for c in self.components if c.get("type") == 2]
        raise AssertionError(f"no button {label!r}; have {labels}")

    @property
    def text(self) -> str:
        """Content plus every embed's visible text, for 'does it say X' assertions."""
        parts = [self.content or ""]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f.get('name')}\n{f.get('value')}" for f in embed.get("fields") or []]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(part for part in parts if part)


def _walk(components: list[dict[str, Any]]) -> Any:
    for item in components:
        yield item
        if item.get("components"):
            yield from _walk(item["components"])
        if item.get("component"):
            yield from _walk([item["component"]])


def _read_files(files: Any) -> dict[str, bytes]:
    read: dict[str, bytes] = {}
    for file in files or []:
        fp = file.fp
        if isinstance(fp, io.BytesIO):
            read[file.filename] = fp.getvalue()
        else:
            fp.seek(0)
            read[file.filename] = fp.read()
    return read


class FakeResponse(SimpleNamespace):
    """Enough of an aiohttp response for discord.py's HTTPException family."""


def http_error(status: int, code: int, message: str) -> discord.HTTPException:
    response = FakeResponse(status=status, reason=message, headers={})
    body = {"code": code, "message": message}
    if status == 403:
        return discord.Forbidden(response, body)  # type: ignore[arg-type]
    if status == 404:
        return discord.NotFound(response, body)  # type: ignore[arg-type]
    return discord.HTTPException(response, body)  # type: ignore[arg-type]


CLOSED_DMS = (403, 50007, "Cannot send messages to this user")
UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
INVALID_WEBHOOK_TOKEN = (401, 50027, "Invalid Webhook Token")


class FakeDiscord:
    """Discord's REST API as the bot sees it: records each request and answers like Discord would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.originals: dict[str, int] = {}  # interaction token -> its original response message id
        self.interactions: dict[str, dict[str, Any]] = {}  # token -> the INTERACTION_CREATE payload
        self._failures: list[tuple[str, str, tuple[int, int, str], list[int]]] = []

    def fail(self, method: str, path_contains: str, error: tuple[int, int, str], times: int = 1) -> None:
        """Make the next `times` matching requests fail with (status, code, message)."""
        self._failures.append((method, path_contains, error, [times]))

    # -- recording --------------------------------------------------------------------------------
    def handle(self, route: Route, payload: Any, files: Any, query: dict[str, Any] | None) -> Any:
        path = route.url.removeprefix(Route.BASE)
        call = Call(
            method=route.method, route=route.path, path=path, params=dict(_route_params(route)),
            json=payload, files=_read_files(files), query=dict(query or {}),
        )
        self.calls.append(call)
        for method, fragment, error, left in self._failures:
            if left[0] > 0 and method == route.method and fragment in path:
                left[0] -= 1
                raise http_error(*error)
        return self._answer(call)

    # -- answers ------------------------------------------------------------------------------------
    def _answer(self, call: Call) -> Any:
        route, params = call.route, call.params
        if route == "/users/@me":
            return BOT_USER
        if route == "/oauth2/applications/@me":
            return application_payload()
        if route.endswith("/commands") and call.method == "PUT":
            return [dict(cmd, id=str(snowflake()), application_id=str(APP_ID), version="1")
                    for cmd in call.json or []]
        if route == "/users/@me/channels":
            return dm_channel_payload(user_payload(int(call.json["recipient_id"]), "member"))
        if route == "/channels/{channel_id}/messages" and call.method == "POST":
            return self._store(self.message_payload(int(params["channel_id"]), call.data, files=call.files))
        if route == "/channels/{channel_id}/messages/{message_id}" and call.method == "PATCH":
            return self._edit(int(params["message_id"]), call.data, call.files)
        if route == "/interactions/{webhook_id}/{webhook_token}/callback":
            return self._callback(call)
        if route == "/webhooks/{webhook_id}/{webhook_token}" and call.method == "POST":
            source = self.interactions.get(params["webhook_token"], {})
            return self._store(self.message_payload(_channel_of(source), call.data, files=call.files))
        if route.startswith("/webhooks/{webhook_id}/{webhook_token}/messages/"):
            return self._webhook_message(call)
        return None

    def _callback(self, call: Call) -> dict[str, Any]:
        token = call.params["webhook_token"]
        source = self.interactions.get(token, {})
        kind = call.json["type"]
        data = call.data
        result: dict[str, Any] = {
            "interaction": {
                "id": str(call.params["webhook_id"]),
                "type": source.get("type", 2),
                "response_message_loading": kind == DEFERRED,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            }
        }
        message: dict[str, Any] | None = None
        if kind in (MESSAGE, DEFERRED):
            message = self._store(self.message_payload(_channel_of(source), data, files=call.files))
            self.originals[token] = int(message["id"])
        elif kind == UPDATE and source.get("message"):
            message = self._edit(int(source["message"]["id"]), data, call.files, base=source["message"])
            self.originals[token] = int(message["id"])
        elif kind == DEFERRED_UPDATE and source.get("message"):
            self.originals[token] = int(source["message"]["id"])
        if message is not None:
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        return result

    def _webhook_message(self, call: Call) -> dict[str, Any] | None:
        token = call.params["webhook_token"]
        which = call.params.get("message_id", "@original")
        message_id = self.originals.get(token) if which == "@original" else int(which)
        if message_id is None or message_id not in self.messages:
            raise http_error(404, 10008, "Unknown Message")
        if call.method == "GET":
            return self.messages[message_id]
        if call.method == "DELETE":
            del self.messages[message_id]
            return None
        return self._edit(message_id, call.data, call.files)

    def message_payload(
        self, channel_id: int, data: dict[str, Any], *, files: dict[str, bytes] | None = None,
        author: dict[str, Any] = BOT_USER,
    ) -> dict[str, Any]:
        return {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": author,
            "content": data.get("content") or "",
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": _attachments(files or {}),
            "embeds": data.get("embeds") or [],
            "components": data.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": int(data.get("flags") or 0),
            "application_id": str(APP_ID),
        }

    def _store(self, message: dict[str, Any]) -> dict[str, Any]:
        self.messages[int(message["id"])] = message
        return message

    def _edit(
        self, message_id: int, data: dict[str, Any], files: dict[str, bytes], base: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        message = dict(self.messages.get(message_id) or base or {})
        for key in ("content", "embeds", "components"):
            if key in data:
                message[key] = data[key] if data[key] is not None else ([] if key != "content" else "")
        if files:
            message["attachments"] = _attachments(files)
        message["edited_timestamp"] = iso()
        self.messages[message_id] = message
        return message

    # -- reading back -------------------------------------------------------------------------------
    def for_token(self, token: str, interaction_id: int) -> list[Call]:
        """Every request answering one interaction: its callback, follow-ups and edits, in order."""
        return [
            call for call in self.calls
            if call.params.get("webhook_token") == token
            or (call.params.get("webhook_id") == interaction_id and call.route.endswith("/callback"))
        ]

    def channel_messages(self, channel_id: int | None = None) -> list[Call]:
        """Messages the bot posted with its own token (channel messages and DMs), not interaction replies."""
        return [
            call for call in self.calls
            if call.route == "/channels/{channel_id}/messages" and call.method == "POST"
            and (channel_id is None or int(call.params["channel_id"]) == channel_id)
        ]


def _route_params(route: Route) -> dict[str, Any]:
    # Route keeps the values it formatted the path with; the template tells us their names.
    names = [part[1:-1] for part in route.path.split("/") if part.startswith("{")]
    values = route.url.removeprefix(Route.BASE).split("/")
    template = route.path.split("/")
    found = {}
    for index, part in enumerate(template):
        if part.startswith("{") and index < len(values):
            name = part[1:-1]
            value = values[index]
            found[name] = int(value) if value.isdigit() and name != "webhook_token" else value
    return {name: found.get(name) for name in names}


def _channel_of(interaction: dict[str, Any]) -> int:
    return int(interaction.get("channel_id") or CHANNEL_ID)


def _attachments(files: dict[str, bytes]) -> list[dict[str, Any]]:
    attachments = []
    for name, content in files.items():
        attachment_id = snowflake()
        attachments.append({
            "id": str(attachment_id),
            "filename": name,
            "size": len(content),
            "url": f"https://cdn.discordapp.com/attachments/{CHANNEL_ID}/{attachment_id}/{name}",
            "proxy_url": f"https://media.discordapp.net/attachments/{CHANNEL_ID}/{attachment_id}/{name}",
        })
    return attachments


class RecordingHTTPClient(HTTPClient):
    """The bot's HTTP client with only its innermost request replaced: nothing leaves the machine."""

    fake: FakeDiscord

    async def request(self, route: Route, *, files: Any = None, form: Any = None, **kwargs: Any) -> Any:
        payload = kwargs.get("json")
        if payload is None and form:
            for part in form:
                if part.get("name") == "payload_json":
                    payload = json.loads(part["value"])
        await asyncio.sleep(0)  # a real request yields to the loop; keep ordering realistic
        return self.fake.handle(route, payload, files, kwargs.get("params"))


class RecordingWebhookAdapter(AsyncWebhookAdapter):
    """The webhook adapter interactions answer through, with its innermost request replaced."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__()
        self.fake = fake

    async def request(
        self, route: Route, session: Any, *, payload: Any = None, multipart: Any = None,
        files: Any = None, params: Any = None, **kwargs: Any,
    ) -> Any:
        if payload is None and multipart:
            for part in multipart:
                if part.get("name") == "payload_json":
                    payload = json.loads(part["value"])
        await asyncio.sleep(0)
        return self.fake.handle(route, payload, files, params)


# ----------------------------------------------------------------------------------------------
# Driving the bot


@dataclass
class Run:
    """One interaction we sent, and everything the bot sent back for it."""

    harness: Harness
    payload: dict[str, Any]
    sent_at: float = field(default_factory=time.perf_counter)

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        return self.payload["token"]

    @property
    def calls(self) -> list[Call]:
        return self.harness.fake.for_token(self.token, self.id)

    @property
    def response(self) -> Call:
        """The interaction's callback (its first answer)."""
        callbacks = [call for call in self.calls if call.route.endswith("/callback")]
        assert callbacks, f"interaction {self.payload['type']} got no response; calls: {self.calls}"
        assert len(callbacks) == 1, "an interaction can be responded to only once"
        return callbacks[0]

    @property
    def followups(self) -> list[Call]:
        return [call for call in self.calls if call.route == "/webhooks/{webhook_id}/{webhook_token}"]

    @property
    def edits(self) -> list[Call]:
        return [call for call in self.calls if "/messages/" in call.route and call.method == "PATCH"]

    @property
    def last(self) -> Call:
        """The latest message-bearing answer: a follow-up, an edit, or the response itself."""
        answers = [call for call in self.calls if call.method in ("POST", "PATCH")]
        assert answers, "no answer was sent"
        return answers[-1]

    @property
    def message(self) -> dict[str, Any]:
        """The message the response created or updated, as Discord stores it."""
        return self.harness.fake.messages[self.harness.fake.originals[self.token]]


class Harness:
    """A logged-in LegDayBot wired to FakeDiscord, with helpers to send it gateway events."""

    TASK_PREFIXES = (
        "CommandTree-invoker", "discord-ui-view-dispatch", "discord-ui-modal-dispatch", "discord.py: ",
        "discord-ui-view-timeout", "discord-ui-dynamic-item",
    )

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot
        self.fake = FakeDiscord()
        self.adapter = RecordingWebhookAdapter(self.fake)

    @classmethod
    async def start(cls, settings: Settings, *, coach: Any = None, storage: Any = None, **kwargs: Any) -> Harness:
        bot = LegDayBot(settings=settings, coach=coach, storage=storage, **kwargs)
        harness = cls(bot)
        # Swap the class of the bot's own client, so every holder of it (state, tree) gets the recorder.
        bot.http.__class__ = RecordingHTTPClient
        bot.http.fake = harness.fake  # type: ignore[attr-defined]
        async_context.set(harness.adapter)
        # The real login: GET /users/@me, GET /oauth2/applications/@me, then setup_hook.
        await bot.login("offline-test-token")
        bot._connection.parse_guild_create(guild_payload())
        await harness.settle()
        return harness

    async def close(self) -> None:
        await self.bot.close()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every task discord.py started for the events we sent has finished."""
        current = asyncio.current_task()
        for _ in range(100):
            await asyncio.sleep(0)
            pending = [
                task for task in asyncio.all_tasks()
                if task is not current and not task.done()
                and task.get_name().startswith(self.TASK_PREFIXES)
            ]
            if not pending:
                return
            _done, still = await asyncio.wait(pending, timeout=timeout)
            if still:
                raise AssertionError(f"tasks still running after {timeout}s: {[t.get_name() for t in still]}")

    # -- payloads -----------------------------------------------------------------------------------
    def interaction_payload(
        self, kind: int, data: dict[str, Any], *, user: dict[str, Any] | None = None, guild: bool = True,
        message: dict[str, Any] | None = None, at: dt.datetime | None = None,
        permissions: discord.Permissions = MEMBER_PERMISSIONS,
    ) -> dict[str, Any]:
        user = user or user_payload()
        interaction_id = snowflake(at)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"interaction-token-{interaction_id}",
            "version": 1,
            "data": data,
            "locale": "en-GB",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(BOT_PERMISSIONS.value),
        }
        if guild:
            payload.update(
                guild_id=str(GUILD_ID),
                guild={"id": str(GUILD_ID), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=str(CHANNEL_ID),
                channel=text_channel_payload(),
                member=member_payload(user, permissions),
                context=0,
                authorizing_integration_owners={"0": str(GUILD_ID)},
            )
        else:
            channel = dm_channel_payload(user)
            payload.update(
                channel_id=channel["id"], channel=channel, user=user, context=1,
                authorizing_integration_owners={"1": user["id"]},
            )
        if message is not None:
            payload["message"] = message
        return payload

    def command_data(self, name: str, options: dict[str, Any], focused: str | None = None) -> dict[str, Any]:
        """APPLICATION_COMMAND data for '/name sub' with options typed from the registered parameters."""
        parts = name.split()
        command: Any = self.bot.tree.get_command(parts[0])
        assert command is not None, f"/{parts[0]} is not registered"
        top = command
        for part in parts[1:]:
            command = command.get_command(part)
            assert command is not None, f"/{name} is not registered"
        encoded: list[dict[str, Any]] = []
        for key, value in options.items():
            parameter = command.get_parameter(key)
            assert parameter is not None, f"/{name} has no option {key!r}"
            option = {"name": parameter.display_name, "type": parameter.type.value, "value": value}
            if key == focused:
                option["focused"] = True
            encoded.append(option)
        for depth in range(len(parts) - 1, 0, -1):
            is_group = depth < len(parts) - 1
            encoded = [{"name": parts[depth], "type": 2 if is_group else 1, "options": encoded}]
        return {"id": str(abs(hash(top.name)) % 10**18), "name": top.name, "type": 1, "options": encoded}

    # -- sending events -----------------------------------------------------------------------------
    async def dispatch(self, payload: dict[str, Any], *, settle: bool = True) -> Run:
        """Deliver one INTERACTION_CREATE to the bot's ConnectionState, as the gateway would."""
        async_context.set(self.adapter)
        self.fake.interactions[payload["token"]] = payload
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        if settle:
            await self.settle()
        return Run(self, payload)

    async def command(self, name: str, *, user: dict[str, Any] | None = None, guild: bool = True,
                      at: dt.datetime | None = None, settle: bool = True, **options: Any) -> Run:
        """Run a slash command, e.g. `await h.command("profile show")`."""
        payload = self.interaction_payload(2, self.command_data(name, options), user=user, guild=guild, at=at)
        return await self.dispatch(payload, settle=settle)

    async def autocomplete(self, name: str, option: str, value: str, **others: Any) -> Run:
        data = self.command_data(name, {**others, option: value}, focused=option)
        return await self.dispatch(self.interaction_payload(4, data))

    def _message_with(self, custom_id: str, message: dict[str, Any] | None) -> dict[str, Any]:
        if message is not None:
            return message
        for stored in reversed(self.fake.messages.values()):
            if any(c.get("custom_id") == custom_id for c in _walk(stored.get("components") or [])):
                return stored
        raise AssertionError(f"no message carries a component {custom_id!r}")

    async def click(self, custom_id: str, *, message: dict[str, Any] | None = None,
                    user: dict[str, Any] | None = None, guild: bool = True) -> Run:
        """Press a button on the latest message that has it (or on `message`)."""
        message = self._message_with(custom_id, message)
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.dispatch(self.interaction_payload(3, data, user=user, guild=guild, message=message))

    async def click_label(self, run: Run | Call, label: str, **kwargs: Any) -> Run:
        call = run.last if isinstance(run, Run) else run
        return await self.click(call.button(label)["custom_id"], **kwargs)

    async def select(self, custom_id: str, values: list[str], *, message: dict[str, Any] | None = None,
                     user: dict[str, Any] | None = None, guild: bool = True) -> Run:
        """Choose options in a string select on the latest message that has it."""
        message = self._message_with(custom_id, message)
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self.dispatch(self.interaction_payload(3, data, user=user, guild=guild, message=message))

    async def submit(self, modal: Call, values: dict[str, Any], *, user: dict[str, Any] | None = None,
                     guild: bool = True) -> Run:
        """Submit a modal the bot sent, filling its inputs by custom_id (text, or a list for selects)."""
        assert modal.type == MODAL, f"not a modal: type {modal.type}"
        rows = [_submitted(component, values) for component in modal.data["components"]]
        data = {"custom_id": modal.data["custom_id"], "components": rows}
        return await self.dispatch(self.interaction_payload(5, data, user=user, guild=guild))

    async def message(self, content: str, *, user: dict[str, Any] | None = None, dm: bool = False,
                      mention: bool = True) -> dict[str, Any]:
        """Deliver a MESSAGE_CREATE: in the server channel (mentioning the bot by default) or as a DM."""
        user = user or user_payload()
        async_context.set(self.adapter)
        mentions = []
        if mention and not dm:
            content = f"<@{BOT_ID}> {content}"
            mentions = [dict(BOT_USER, member=member_payload(BOT_USER))]
        payload: dict[str, Any] = {
            "id": str(snowflake()),
            "author": user,
            "content": content,
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if dm:
            payload["channel_id"] = dm_channel_payload(user)["id"]
        else:
            payload.update(channel_id=str(CHANNEL_ID), guild_id=str(GUILD_ID), member=member_payload(user))
            payload["member"].pop("user")
        self.bot._connection.parse_message_create(payload)  # type: ignore[arg-type]
        await self.settle()
        return payload


def _submitted(component: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """What Discord sends back for one modal row: the same layout, each input with its value."""
    if component.get("type") == 1:  # action row
        return {"type": 1, "components": [_submitted(child, values) for child in component["components"]]}
    if component.get("type") == 18:  # label wrapping one input
        return {"type": 18, "id": component.get("id", 0), "component": _submitted(component["component"], values)}
    custom_id = component.get("custom_id")
    given = values.get(custom_id, component.get("value", "") if component["type"] == 4 else [])
    if component["type"] == 4:
        return {"type": 4, "id": component.get("id", 0), "custom_id": custom_id, "value": given}
    chosen = given if isinstance(given, list) else [given]
    return {"type": component["type"], "id": component.get("id", 0), "custom_id": custom_id, "values": chosen}


def make_settings(tmp_path: Any, **overrides: Any) -> Settings:
    """Settings for a test: a tmp data folder, an owner, no .env file read."""
    values: dict[str, Any] = {
        "data_dir": tmp_path, "owner_ids": [OWNER_ID], "dev_guild_id": None, "backup_count": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def open_core(settings: Settings) -> tuple[Any, Any]:
    """The real Coach and Storage on the test's data folder (None for a piece not written yet)."""
    coach = storage = None
    try:
        from bot.coach import Coach
    except ModuleNotFoundError:
        pass
    else:
        coach = Coach.load(settings)
    try:
        from bot.storage import Storage
    except ModuleNotFoundError:
        pass
    else:
        storage = await asyncio.to_thread(Storage.from_settings, settings)
    return coach, storage


async def start_harness(tmp_path: Any, **overrides: Any) -> Harness:
    """A harness over the real core, on a fresh data folder."""
    settings = make_settings(tmp_path, **overrides)
    coach, storage = await open_core(settings)
    return await Harness.start(settings, coach=coach, storage=storage)


async def stop_harness(harness: Harness) -> None:
    await harness.close()
    if harness.bot.storage is not None:
        await asyncio.to_thread(harness.bot.storage.close)
