"""The pipeline's speed-ups change nothing: plans, pages and why-text equal the un-optimised paths', byte for byte."""

from __future__ import annotations

import hashlib
import json
import random

from jinja2.runtime import Context

from bench.bench_plan import START, random_profile
from bot.coach import Coach
from bot.conditions import Condition
from bot.planner import Builder
from bot.render import PlanContext, Renderer
from bot.text import escape_user_text

PROFILES = 300


def digests(coach: Coach, profiles: list) -> list[str]:
    """One digest per profile of everything a member can see of its plan, and the plan itself."""
    found = []
    for profile in profiles:
        plan = coach.plan(profile, START)
        seen = [coach.renderer.pages(plan), coach.renderer.why_text(plan), coach.renderer.markdown(plan),
                plan.model_dump(mode="json")]
        found.append(hashlib.sha256(json.dumps(seen, sort_keys=True, default=str).encode()).hexdigest())
    return found


def original_estimate(self: Builder, session, template, sets: list[int]) -> float:
    """A session's minutes as the planner first worked them out: its exercises as done on the day, each timed."""
    slots = list(zip(session.slots, sets, strict=True))
    if session.day >= 0:
        slots = self.for_day(slots, session.day)
    return self.minutes(template, [(slot.exercise, n, self.dose(slot.exercise, slot.reps)[1]) for slot, n in slots])


def test_fast_paths_give_the_reference_plans(settings, monkeypatch):
    """300 varied profiles (the benchmark's generator): memoised conditions and per-set times give the plans
    and pages that evaluating every condition afresh, and timing every session from scratch, give; and
    the renderer's shortcuts (globals merged once, built-in methods called directly, escaped text reused)
    give the pages Jinja's own `Template.render` and the plain escaping filter give."""
    profiles = [random_profile(random.Random(seed)) for seed in range(PROFILES)]
    fast = digests(Coach.load(settings), profiles)
    memoised_times = Builder.day_set_times

    def fresh_times(self: Builder, session) -> list:
        self._day_set_times.clear()
        return memoised_times(self, session)

    monkeypatch.setattr(Condition, "__call__", Condition.evaluate)
    monkeypatch.setattr(Builder, "estimate", original_estimate)
    monkeypatch.setattr(Builder, "day_set_times", fresh_times)
    monkeypatch.setattr(Renderer, "_fill", lambda self, name, context: self._templates[name].render(**context))
    monkeypatch.setattr(PlanContext, "call", Context.call)
    monkeypatch.setattr(Renderer, "_user", lambda self, text: escape_user_text(text))
    reference = digests(Coach.load(settings), profiles)
    assert len(set(reference)) > PROFILES // 2  # the profiles really differ
    assert [i for i, (a, b) in enumerate(zip(fast, reference, strict=True)) if a != b] == []
