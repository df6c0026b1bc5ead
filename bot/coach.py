"""The core's front door: loads rules, catalogue, templates and FAQ once, and makes and renders plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings, get_settings
from bot.engine import RuleSet, load_ruleset
from bot.models import Plan, Profile
from bot.planner import Planner
from bot.render import Renderer

if TYPE_CHECKING:
    from bot.faq import FaqBase


@dataclass
class Coach:
    """Everything a front-end needs from the core; front-ends hold one and never touch files."""

    ruleset: RuleSet
    renderer: Renderer
    rules_dir: Path

    @classmethod
    def load(cls, settings: Settings | None = None) -> Coach:
        """A coach with the rules and templates of the settings' folders (the configured settings by default)."""
        settings = settings or get_settings()
        return cls(ruleset=load_ruleset(settings.rules_dir), renderer=Renderer(settings.templates_dir),
                   rules_dir=settings.rules_dir)

    @cached_property
    def planner(self) -> Planner:
        """The planner for the default rules, made on first use."""
        return Planner(self.ruleset)

    @cached_property
    def faq(self) -> FaqBase:
        """The default FAQ (faq.yaml in the rules folder), loaded on first use."""
        from bot.faq import load_faq

        return load_faq(self.rules_dir / "faq.yaml")

    def plan(self, profile: Profile, start: dt.date | None = None, ruleset: RuleSet | None = None) -> Plan:
        """A plan for the profile; `ruleset` lets a server use its own effective rules."""
        planner = self.planner if ruleset is None or ruleset is self.ruleset else Planner(ruleset)
        return planner.make_plan(profile, start)
