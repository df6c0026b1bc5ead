"""The plan as a picture: a phone-sized calendar PNG of the block's four weeks, drawn with Pillow.

Weeks are rows and Monday-Sunday are columns. Each day carries up to two tiles, each with a colour *and* a
letter and a word, so the picture reads without colour too; a legend below says what each marker means. The
picture is made from the same Plan object as the text pages, so the two cannot disagree.

Pillow rather than matplotlib for this one: a calendar is boxes and words, Pillow imports in a few tens of
milliseconds and draws the block in a few more (bench/bench_pictures.py has the figures). The font is DejaVu
Sans, which ships inside the matplotlib wheel we depend on for the progress chart; Pillow's own scalable
default font stands in when it can't be found.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.models import DAY_NAMES, DAYS, RACE_DISTANCE_LABELS

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    from bot.catalog import RacePolicy
    from bot.models import Plan, Session

WEEKS = 4
WIDTH = 1080  # about a phone screen's width in pixels: Discord shows it full width without scaling text away
MARGIN = 24
TITLE_H = 96
HEADER_H = 44
LABEL_W = 132  # the week column on the left
CELL_W = (WIDTH - 2 * MARGIN - LABEL_W) // 7
CELL_H = 168
DATE_H = 34  # the date line at the top of each cell; the tiles fill the rest
GRID_LEFT = MARGIN + LABEL_W
GRID_TOP = MARGIN + TITLE_H + HEADER_H
LEGEND_ROW_H = 44
PAD = 5

WHITE = (255, 255, 255)
INK = (20, 20, 20)
GRID_LINE = (190, 190, 190)
FAINT = (110, 110, 110)
BANNER = (204, 51, 17)


@dataclass(frozen=True)
class Marker:
    """One thing a day can hold: its letter, word, legend line and colour (Okabe-Ito, safe for colour blindness)."""

    key: str
    letter: str
    word: str
    legend: str
    fill: tuple[int, int, int]
    ink: tuple[int, int, int] = INK
    short: str = ""  # the word when two tiles share a cell (default: the word)


MARKERS: dict[str, Marker] = {marker.key: marker for marker in (
    Marker("heavy", "H", "Heavy", "Heavy strength session", (0, 114, 178), WHITE),
    Marker("power", "P", "Power", "Strength and power (jumps)", (213, 94, 0), WHITE),
    Marker("light", "L", "Light", "Light session (primer, recovery)", (86, 180, 233)),
    Marker("mobility", "M", "Mobility", "Mobility only", (0, 158, 115), WHITE),
    Marker("long-run", "R", "Long run", "Your long run", (204, 121, 167), short="Long"),
    Marker("hard-run", "Q", "Hard run", "Your hard (quality) run", (230, 159, 0), short="Hard"),
    Marker("race", "\N{BLACK STAR}", "RACE", "Race day", (240, 228, 66)),
    Marker("rest", "Z", "Rest", "Rest after the race: no strength", (200, 200, 200)),
)}
# A session's kind (bot/models.Session.kind) names its marker: "strength" is the heavy session.
KIND_MARKER = {"strength": "heavy", "power": "power", "light": "light"}


@dataclass(frozen=True)
class Day:
    """One day of the calendar: its date, where it sits, and the markers it carries (in day order)."""

    date: dt.date
    week: int  # 0-3, the row
    column: int  # 0-6, Monday first
    markers: tuple[str, ...]


def cell_box(week: int, column: int) -> tuple[int, int, int, int]:
    """The pixel box (left, top, right, bottom) of one day's cell: row `week` 0-3, column 0-6 (Monday first)."""
    left = GRID_LEFT + column * CELL_W
    top = GRID_TOP + week * CELL_H
    return left, top, left + CELL_W, top + CELL_H


def tile_boxes(week: int, column: int, count: int) -> list[tuple[int, int, int, int]]:
    """The boxes of a cell's `count` tiles, stacked under its date line."""
    left, top, right, bottom = cell_box(week, column)
    body_top = top + DATE_H
    if count <= 0:
        return []
    height = (bottom - PAD - body_top) / count
    return [(left + PAD, round(body_top + i * height), right - PAD, round(body_top + (i + 1) * height) - PAD)
            for i in range(count)]


def _run_markers(plan: Plan, day: dt.date) -> list[str]:
    profile = plan.profile
    key = DAYS[day.weekday()]
    if profile.long_run_day == key:
        return ["long-run"]  # a long run also named a hard day is still the long run
    return ["hard-run"] if key in profile.hard_days else []


def session_marker(session: Session) -> str:
    """The marker of a strength session, from its kind."""
    return KIND_MARKER.get(session.kind, "heavy")


def calendar_days(plan: Plan, races: RacePolicy | None = None) -> list[Day]:
    """Every day of the block with its markers: what the picture draws, worked out from the plan alone.

    `races` (the rule set's race policy) says how many rest days follow the race; without it the days after
    the race are left as the plan has them.
    """
    sessions = {s.date: s for week in plan.weeks for s in week.sessions}  # (a session's date is unique)
    mobility = {m.date for week in plan.weeks for m in week.mobility}
    race = plan.profile.race_date
    rest_days = races.for_distance(plan.profile.race_distance).rest_days if races and race else 0
    out = []
    for offset in range(WEEKS * 7):
        day = plan.start + dt.timedelta(days=offset)
        markers: list[str]
        if race is not None and day == race:
            markers = ["race"]
        elif race is not None and 0 < (day - race).days <= rest_days and day not in sessions.keys() | mobility:
            markers = ["rest"]
        else:
            markers = _run_markers(plan, day)
            if day in sessions:
                session = sessions[day]
                # A session after the day's run comes second; one on a day off running fills the cell.
                markers = [*markers, session_marker(session)] if session.after_run else [
                    session_marker(session), *markers]
            elif day in mobility:
                markers.append("mobility")
        out.append(Day(day, offset // 7, offset % 7, tuple(markers)))
    return out


@cache
def _font_file(bold: bool) -> Path | None:
    spec = importlib.util.find_spec("matplotlib")  # found without importing it: that would cost ~0.2 s
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        if path.is_file():
            return path
    return None


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans at `size` pixels (bold if asked), or Pillow's scalable default font."""
    from PIL import ImageFont

    path = _font_file(bold)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int, bold: bool = False) -> tuple[str, object]:
    """The largest font (down to 14 px) that fits `text` in `width`, then the text cut to fit."""
    while size > 14 and draw.textlength(text, font=font(size, bold)) > width:
        size -= 2
    face = font(size, bold)
    while len(text) > 1 and draw.textlength(text, font=face) > width:
        text = text[:-2] + "\N{HORIZONTAL ELLIPSIS}"
    return text, face


def _title(plan: Plan) -> tuple[str, str]:
    end = plan.start + dt.timedelta(days=WEEKS * 7 - 1)
    title = f"Your 4 weeks: {plan.start:%a %-d %b} to {end:%a %-d %b %Y}"
    race = plan.profile.race_date
    if plan.withheld:
        return title, "No strength sessions in this plan yet: the plan page says why."
    if race is not None and plan.start <= race <= end:
        distance = RACE_DISTANCE_LABELS.get(plan.profile.race_distance) if plan.profile.race_distance else None
        return title, f"Race: {race:%A %-d %B}" + (f" ({distance})" if distance else "")
    return title, f"{plan.sessions_per_week} strength session{'s' * (plan.sessions_per_week != 1)} a week"


def _draw_tile(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], marker: Marker) -> None:
    left, top, right, bottom = box
    race = marker.key == "race"
    draw.rounded_rectangle(box, radius=8, fill=marker.fill, outline=INK if race else None, width=3 if race else 0)
    height, middle = bottom - top, (left + right) / 2
    if not marker.word:  # a legend swatch: the letter alone
        draw.text((middle, top + height / 2), marker.letter, font=font(26, bold=True), fill=marker.ink, anchor="mm")
    elif height >= 90:  # a tile alone in its cell: a big letter over its word
        draw.text((middle, top + height * 0.4), marker.letter, font=font(46, bold=True), fill=marker.ink,
                  anchor="mm")
        word, face = _fit(draw, marker.word, right - left - 8, 26, bold=True)
        draw.text((middle, top + height * 0.8), word, font=face, fill=marker.ink, anchor="mm")
    else:  # two tiles share the cell: letter and word on one line
        letter_face = font(30, bold=True)
        draw.text((left + 8, top + height / 2), marker.letter, font=letter_face, fill=marker.ink, anchor="lm")
        word_left = left + 14 + draw.textlength(marker.letter, font=letter_face)
        word, face = _fit(draw, marker.short or marker.word, int(right - 4 - word_left), 24, bold=True)
        draw.text((word_left, top + height / 2), word, font=face, fill=marker.ink, anchor="lm")


def calendar_image_size(plan: Plan) -> tuple[int, int]:
    """The picture's (width, height) in pixels."""
    rows = -(-len(MARKERS) // 2)
    return WIDTH, GRID_TOP + WEEKS * CELL_H + 20 + rows * LEGEND_ROW_H + MARGIN


def calendar_png(plan: Plan, races: RacePolicy | None = None) -> bytes:
    """The block as a calendar picture (PNG bytes): weeks as rows, Monday-Sunday as columns, with a legend."""
    from PIL import Image, ImageDraw

    size = calendar_image_size(plan)
    image = Image.new("RGB", size, WHITE)
    draw = ImageDraw.Draw(image)
    title, subtitle = _title(plan)
    text, face = _fit(draw, title, WIDTH - 2 * MARGIN, 36, bold=True)
    draw.text((MARGIN, MARGIN), text, font=face, fill=INK)
    text, face = _fit(draw, subtitle, WIDTH - 2 * MARGIN, 26, bold=plan.withheld)
    draw.text((MARGIN, MARGIN + 50), text, font=face, fill=BANNER if plan.withheld else FAINT)

    for column, key in enumerate(DAYS):
        left = GRID_LEFT + column * CELL_W
        draw.text((left + CELL_W / 2, GRID_TOP - HEADER_H / 2), DAY_NAMES[key][:3], font=font(30, bold=True),
                  fill=INK, anchor="mm")
    labels = {week.week - 1: week.label for week in plan.weeks}
    for row in range(WEEKS):
        top = GRID_TOP + row * CELL_H
        draw.text((MARGIN, top + 12), f"Week {row + 1}", font=font(26, bold=True), fill=INK)
        if row in labels:
            label, face = _fit(draw, labels[row], LABEL_W - 10, 22)
            draw.text((MARGIN, top + 48), label, font=face, fill=FAINT)

    for day in calendar_days(plan, races):
        left, top, right, bottom = cell_box(day.week, day.column)
        draw.rectangle((left, top, right, bottom), outline=GRID_LINE, width=2)
        first = day.date.day == 1 or (day.week == 0 and day.column == 0)
        draw.text((left + 8, top + 6), f"{day.date:%-d %b}" if first else f"{day.date.day}",
                  font=font(25, bold=first), fill=INK)
        for box, key in zip(tile_boxes(day.week, day.column, len(day.markers)), day.markers, strict=True):
            _draw_tile(draw, box, MARKERS[key])

    top = GRID_TOP + WEEKS * CELL_H + 20
    half = (WIDTH - 2 * MARGIN) // 2
    for index, marker in enumerate(MARKERS.values()):
        left = MARGIN + (index % 2) * half
        row_top = top + (index // 2) * LEGEND_ROW_H
        _draw_tile(draw, (left, row_top, left + 64, row_top + LEGEND_ROW_H - 8),
                   Marker(marker.key, marker.letter, "", "", marker.fill, marker.ink))
        draw.text((left + 76, row_top + (LEGEND_ROW_H - 8) / 2), marker.legend, font=font(24), fill=INK,
                  anchor="lm")

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
