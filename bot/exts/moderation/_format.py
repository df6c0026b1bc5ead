"""How moderator data looks in Discord: YAML in fence-safe code blocks, rule and history pages, impact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import discord
import yaml

from bot.text import (
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_NAME_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    escape_user_text,
    neutralise_mentions,
    truncate,
)

if TYPE_CHECKING:
    from bot.tuning import Impact, RuleRow

RULES_PER_PAGE = 10
CHANGES_PER_PAGE = 4
MOD_COLOUR = discord.Colour.dark_gold()
ORIGIN_WORDS = {"default": "default", "changed": "changed here", "server": "this server's own"}
NOT_SAVED = "Nothing was saved. Please fix this and try again:"


def code_block(text: str, limit: int, language: str = "yaml") -> str:
    """Text in a code block no input can break out of, at most `limit` characters in all."""
    # A zero-width space between backticks keeps a moderator's ``` from closing the block early.
    safe = neutralise_mentions(str(text)).replace("`", "`\u200b")
    opening, closing = f"```{language}\n", "\n```"
    room = max(limit - len(opening) - len(closing), 10)
    return opening + truncate(safe, room) + closing


def _block_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _ReadableDumper(yaml.SafeDumper):
    """YAML for people: multi-line text as a block, keys in the order given."""


_ReadableDumper.add_representer(str, _block_str)


def to_yaml(value: Any) -> str:
    """Plain data as readable YAML (multi-line text as blocks), the way moderators write it."""
    if value is None:
        return "(nothing)"
    return yaml.dump(value, Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=88).strip()


def problems_of(error: Exception) -> list[str]:
    """The lines of a validation error (a DataFileError's problems, or the message's lines)."""
    problems = getattr(error, "problems", None)
    if problems:
        return [str(line) for line in problems]
    return [line for line in str(error).splitlines() if line.strip()] or ["that couldn't be used"]


def problems_message(error: Exception, lead: str = NOT_SAVED) -> str:
    """A validation failure for Discord: what happened, then each problem (line and field) in a block."""
    body = "\n".join(problems_of(error))
    return lead + "\n" + code_block(body, CONTENT_LIMIT - len(lead) - 1, language="")


def when(iso_text: Any) -> str:
    """An audit timestamp as a Discord time (shown in each reader's own time zone)."""
    try:
        at = dt.datetime.fromisoformat(str(iso_text))
    except ValueError:
        return escape_user_text(str(iso_text))[:40]
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return discord.utils.format_dt(at, "f")


def pages_of(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Split items into pages of `size`; at least one (empty) page."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


def rule_line(row: RuleRow) -> str:
    state = "on" if row.enabled else "**off**"
    origin = ORIGIN_WORDS.get(row.origin, row.origin)
    description = truncate(escape_user_text(row.description), 110)
    return f"`{row.id}` · priority {row.priority} · {state} · {origin}\n{description}"


def rule_pages(rows: Sequence[RuleRow], tag: str | None, version: str) -> list[discord.Embed]:
    """The /rules list pages: each rule's id, priority, on/off and origin."""
    title = "This server's rules" + (f" tagged {escape_user_text(tag)[:40]}" if tag else "")
    if not rows:
        embed = discord.Embed(title=title, colour=MOD_COLOUR,
                              description="No rules match. Try /rules list without a tag.")
        return [embed]
    changed = sum(row.origin != "default" for row in rows)
    chunks = pages_of(rows, RULES_PER_PAGE)
    embeds = []
    for number, chunk in enumerate(chunks, start=1):
        text = truncate("\n\n".join(rule_line(row) for row in chunk), EMBED_DESCRIPTION_LIMIT)
        embed = discord.Embed(title=title, description=text, colour=MOD_COLOUR)
        embed.set_footer(text=f"Page {number} of {len(chunks)} · {len(rows)} rules, {changed} changed or added "
                              f"here · rules {version}")
        embeds.append(embed)
    return embeds


def change_title(entry: dict[str, Any]) -> str:
    target = escape_user_text(str(entry.get("target") or ""))[:80]
    words = f"#{entry.get('change_id')} · {entry.get('kind')} {entry.get('action')}"
    return truncate(f"{words} · {target}" if target else words, EMBED_FIELD_NAME_LIMIT)


def change_value(entry: dict[str, Any], room: int = EMBED_FIELD_VALUE_LIMIT) -> str:
    """Who and when, then what it was before and after, each in a code block, within `room`."""
    actor = entry.get("actor_id")
    who = f"by <@{actor}>" if isinstance(actor, int) else "by LegDay"
    head = f"{who}, {when(entry.get('at'))}"
    share = (room - len(head) - 30) // 2
    before = code_block(to_yaml(entry.get("before")), share)
    after = code_block(to_yaml(entry.get("after")), share)
    return truncate(f"{head}\n**Before**\n{before}\n**After**\n{after}", room)


def history_pages(entries: Sequence[dict[str, Any]], title: str) -> list[discord.Embed]:
    """The audit log, newest first: who changed what and when, with before and after."""
    if not entries:
        return [discord.Embed(title=title, colour=MOD_COLOUR, description="No changes yet.")]
    chunks = pages_of(entries, CHANGES_PER_PAGE)
    embeds = []
    for number, chunk in enumerate(chunks, start=1):
        embed = discord.Embed(title=title, colour=MOD_COLOUR)
        for entry in chunk:
            embed.add_field(name=change_title(entry), value=change_value(entry), inline=False)
        embed.set_footer(text=f"Page {number} of {len(chunks)} · newest first · /rules revert <change> undoes one")
        embeds.append(embed)
    return embeds


def impact_embed(title: str, impact: Impact, extra: str = "") -> discord.Embed:
    """How many members who planned in this server would get a different plan, with one example diff."""
    if impact.total == 0:
        summary = "No member has made a plan in this server yet, so no plan would change."
    else:
        summary = (f"**{impact.changed} of {impact.total}** members who made a plan in this server would get "
                   "a different plan if this is saved.")
    description = f"{extra}\n\n{summary}".strip()
    embed = discord.Embed(title=truncate(title, 256), description=description, colour=MOD_COLOUR)
    if impact.example:
        embed.add_field(name="For example, one member's plan would change like this",
                        value=code_block(impact.example, EMBED_FIELD_VALUE_LIMIT, language="diff"), inline=False)
    return embed


def fired_embed(trace: Iterable[Any]) -> discord.Embed:
    """The rules that fired for a test profile, and any that failed and were skipped."""
    lines = []
    for entry in trace:
        if entry.status == "safeguard" or entry.status == "no-effect":
            continue
        mark = {"applied": "fired", "overridden": "fired, overridden", "error": "**failed, skipped**"}.get(
            entry.status, entry.status)
        changes = "; ".join(entry.changes)
        lines.append(f"`{entry.rule_id}` ({mark}): {truncate(escape_user_text(changes), 160)}")
    embed = discord.Embed(title="Rules that fired", colour=MOD_COLOUR,
                          description=truncate("\n".join(lines) or "No rule fired for this profile.",
                                               EMBED_DESCRIPTION_LIMIT))
    return embed
