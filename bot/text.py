"""Text helpers shared by every renderer: Discord's limits, and making user text safe to show."""

from __future__ import annotations

import re
from functools import lru_cache

# Discord's documented limits (COACHING.md invariant 22).
CONTENT_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TITLE_LIMIT = 256
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FIELDS_LIMIT = 25
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10

# Characters that change Discord's formatting anywhere, and the ones that only do at a line's start.
_MARKDOWN_RE = re.compile(r"([\\*_~`|\[\]])")
_LINE_START_RE = re.compile(r"^(\s*)([>#-])", re.MULTILINE)
_MENTION_RE = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>")


def neutralise_mentions(text: str) -> str:
    """Make @everyone, @here and <@id>/<@&id>/<#id> inert, by a zero-width space after the '@' or '<'."""
    if "@" not in text and "<" not in text:  # the common case, without a regex pass
        return text
    return _MENTION_RE.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], text)


# A masked link, [text](url): Discord shows only the text, so a link can pose as something else.
_MASKED_LINK_RE = re.compile(r"\[([^\[\]\n]{0,200})\]\(\s*<?([^()\s<>]{1,500})>?\s*\)")


def neutralise_links(text: str) -> str:
    """Show a masked link's address: `[text](url)` becomes `text (<url>)`, which Discord doesn't mask.

    Any other `](` left over gets a zero-width space, so no masked link survives in any form.
    """
    if "](" not in text:
        return text
    text = _MASKED_LINK_RE.sub(lambda m: f"{m.group(1)} (<{m.group(2)}>)", text)
    # Whatever is left (nested brackets, odd spacing) is broken apart so Discord can't read it as a link.
    return text.replace("](", "]\u200b(")


@lru_cache(maxsize=8192)  # rule descriptions and notes repeat across every plan
def escape_user_text(text: str) -> str:
    """Text that came from a person (a member or a moderator): no markdown effects, no pings."""
    escaped = _LINE_START_RE.sub(r"\1\\\2", _MARKDOWN_RE.sub(r"\\\1", neutralise_links(str(text))))
    return neutralise_mentions(escaped)


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Cut text to at most `limit` characters, at a line or word end when there is one near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(marker)]
    for sep in ("\n", " "):
        at = cut.rfind(sep)
        if at > limit * 0.6:
            cut = cut[:at]
            break
    return cut.rstrip() + marker


def embed_size(embed: dict) -> int:
    """Characters Discord counts towards an embed's 6,000 (title, description, fields, footer, author)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or [])
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def embed_problems(embed: dict) -> list[str]:
    """Every way an embed dict breaks Discord's limits; empty when it fits."""
    problems = []
    if len(embed.get("title") or "") > EMBED_TITLE_LIMIT:
        problems.append("title too long")
    if len(embed.get("description") or "") > EMBED_DESCRIPTION_LIMIT:
        problems.append("description too long")
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_LIMIT:
        problems.append("too many fields")
    for field in fields:
        if not field.get("name") or len(field["name"]) > EMBED_FIELD_NAME_LIMIT:
            problems.append(f"field name empty or too long: {field.get('name')!r:.40}")
        if not field.get("value") or len(field["value"]) > EMBED_FIELD_VALUE_LIMIT:
            problems.append(f"field value empty or too long in {field.get('name')!r:.40}")
    if len((embed.get("footer") or {}).get("text") or "") > EMBED_FOOTER_LIMIT:
        problems.append("footer too long")
    if embed_size(embed) > EMBED_TOTAL_LIMIT:
        problems.append("embed over 6,000 characters")
    return problems
