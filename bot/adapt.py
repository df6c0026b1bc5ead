"""Adapting the rest of a block to a member's check-ins, and the block after it (owned by the adapt branch).

Contract for front-ends, fixed before the work was split:
- `adapt(plan, checkins, today) -> Plan`: pure and deterministic; the plan as made plus every check-in gives the
  plan the member follows from `today` on, with one `TraceEntry` per change (status "applied", rule_id starting
  "check-in") and notes saying why. Sessions already past are never changed.
- `next_block(plan, checkins, coach, start) -> Plan`: the four weeks after `plan`, continued from the logs.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.checkins import CheckIn
    from bot.coach import Coach
    from bot.models import Plan


def adapt(plan: Plan, checkins: list[CheckIn], today: dt.date) -> Plan:
    """The plan adapted to the check-ins (until the adapt branch lands: the plan unchanged)."""
    return plan


def next_block(plan: Plan, checkins: list[CheckIn], coach: Coach, start: dt.date) -> Plan:
    """The four weeks after `plan` (until the adapt branch lands: a fresh plan from the same profile)."""
    return coach.plan(plan.profile, start)
