"""Moderators' per-server tuning: effective rule sets and FAQ, validation, audit trail, revert, impact, reload."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.config import Settings
from bot.engine import parse_rules
from bot.models import Profile
from bot.storage import Storage
from bot.tuning import (
    MAX_TEXT,
    StaleChange,
    Tuning,
    TuningError,
    effective_faq,
    effective_ruleset,
    export_yaml,
    impact,
    parse_moderator_rule,
    plan_diff,
    rule_to_yaml,
)
from bot.yamlio import DataFileError, load_yaml
from tests.conftest import START

GUILD, OTHER_GUILD, MOD = 111, 222, 9001

HILL_RULE = """\
id: club-hill-note
description: Our trail club reminds hill runners that the Saturday hill session counts as a hard run.
priority: 100
tags: [goals, club]
when: "'hills' in goals"
then:
  - note: The club's Saturday hill session counts as a hard run, so keep strength off the Friday.
"""
HILL_NOTE = "The club's Saturday hill session counts as a hard run, so keep strength off the Friday."


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage.open(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def tuning(coach: Coach, storage: Storage) -> Tuning:
    return Tuning(coach, storage)


def hill_runner() -> Profile:
    return Profile(weekly_km=45, level="intermediate", goals=["hills"])


def road_runner() -> Profile:
    return Profile(weekly_km=45, level="intermediate", goals=["speed"])


def edited(rule_id: str, coach: Coach, **changes: object) -> str:
    """The YAML of a default rule with some fields changed, as a moderator would send it."""
    rule = coach.ruleset.by_id[rule_id].model_copy(update=changes)
    return rule_to_yaml(rule)


def seeded_profiles(storage: Storage, count: int = 50, guild_id: int | None = None) -> int:
    """Save `count` varied profiles of members who planned in the server; every fifth is a hill runner.

    Returns how many hill runners.
    """
    guild_id = GUILD if guild_id is None else guild_id
    levels = ["beginner", "intermediate", "advanced"]
    other_goals = ["speed", "endurance", "injury-resilience", "power", "general"]
    hills = 0
    for number in range(count):
        is_hill = number % 5 == 0
        hills += is_hill
        goals = ["hills"] if is_hill else [other_goals[number % len(other_goals)]]
        storage.profiles.save(1000 + number, Profile(
            weekly_km=15 + (number * 7) % 90, level=levels[number % 3], goals=goals,
            days_per_week=[None, 1, 2, 3][number % 4], long_run_day=["sun", "sat", None][number % 3],
            hard_days=[[], ["tue"], ["tue", "thu"]][number % 3], equipment=[[], ["dumbbells"], ["gym"]][number % 3],
            niggles=[[], ["knee"], ["achilles"]][number % 3],
        ), guild_id=guild_id)
    return hills


# ---- effective rule sets


def test_no_overrides_is_the_default_rule_set(coach: Coach) -> None:
    """A server with no overrides uses the shipped rule set object itself."""
    assert effective_ruleset(coach.ruleset, {}) is coach.ruleset


def test_effective_rule_set_is_memoised(coach: Coach) -> None:
    """The same overrides give the same built rule set, not a rebuild."""
    overrides = {"safety-several-niggles": {"enabled": False}}
    assert effective_ruleset(coach.ruleset, overrides) is effective_ruleset(coach.ruleset, dict(overrides))


def test_disabling_a_rule_stops_it_firing_for_that_server_only(tuning: Tuning) -> None:
    """A disabled default rule no longer fires in the server's plans; other servers keep it."""
    profile = Profile(weekly_km=40, level="beginner", goals=["general"], niggles=["knee", "achilles", "calf"])
    assert "safety-several-niggles" in tuning.plan_for(GUILD, profile, START).fired_rules
    tuning.set_enabled(GUILD, MOD, "safety-several-niggles", False)
    assert "safety-several-niggles" not in tuning.plan_for(GUILD, profile, START).fired_rules
    assert "safety-several-niggles" in tuning.plan_for(OTHER_GUILD, profile, START).fired_rules


def test_plans_record_the_effective_rule_set_version(tuning: Tuning, coach: Coach) -> None:
    """A plan made for a tuned server records that server's rule-set version, not the default one."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    plan = tuning.plan_for(GUILD, hill_runner(), START)
    assert plan.rules_version == tuning.ruleset_for(GUILD).version != coach.ruleset.version


def test_guild_settings_store_the_effective_version(tuning: Tuning, storage: Storage) -> None:
    """After a change the server's settings hold the version its plans now get."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    assert storage.guilds.get(GUILD)["rules_version"] == tuning.ruleset_for(GUILD).version


def test_enabling_again_returns_to_the_defaults(tuning: Tuning, coach: Coach) -> None:
    """Switching a rule back to its default state drops the override altogether."""
    tuning.set_enabled(GUILD, MOD, "safety-several-niggles", False)
    tuning.set_enabled(GUILD, MOD, "safety-several-niggles", True)
    assert tuning.ruleset_for(GUILD) is coach.ruleset


def test_toggling_to_the_current_state_is_refused(tuning: Tuning) -> None:
    """Enabling a rule that is already on says so and records nothing."""
    with pytest.raises(TuningError, match="already enabled"):
        tuning.set_enabled(GUILD, MOD, "safety-several-niggles", True)
    assert tuning.history(GUILD) == []


def test_unknown_rule_id_gets_a_suggestion(tuning: Tuning) -> None:
    """A misspelt rule id is refused with the closest real id."""
    with pytest.raises(TuningError, match="Did you mean 'safety-several-niggles'"):
        tuning.set_enabled(GUILD, MOD, "safety-severl-niggles", False)


def test_added_rule_changes_the_servers_plans(tuning: Tuning) -> None:
    """A server rule's note reaches that server's hill runners and nobody else."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    assert HILL_NOTE in tuning.plan_for(GUILD, hill_runner(), START).notes
    assert HILL_NOTE not in tuning.plan_for(GUILD, road_runner(), START).notes
    assert HILL_NOTE not in tuning.plan_for(OTHER_GUILD, hill_runner(), START).notes


def test_rows_mark_default_changed_and_server_rules(tuning: Tuning, coach: Coach) -> None:
    """/rules list shows which rules are the server's own and which it changed."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    tuning.save_rule(GUILD, MOD, edited("race-far-off", coach, priority=700))
    origins = {row.id: row.origin for row in tuning.rows(GUILD)}
    assert (origins["club-hill-note"], origins["race-far-off"], origins["race-maintenance"]) == (
        "server", "changed", "default")


def test_rows_filter_by_tag(tuning: Tuning) -> None:
    """Filtering by tag lists only rules carrying it."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    assert [row.id for row in tuning.rows(GUILD, tag="club")] == ["club-hill-note"]


def test_editing_a_default_rule_replaces_it(tuning: Tuning, coach: Coach) -> None:
    """An edit of a default rule keeps its id and takes its place."""
    tuning.save_rule(GUILD, MOD, edited("race-far-off", coach, description="Plenty of time before the race."))
    assert tuning.ruleset_for(GUILD).by_id["race-far-off"].description == "Plenty of time before the race."


# ---- validation


def test_yaml_syntax_error_names_the_line(tuning: Tuning) -> None:
    """Broken YAML is refused with the line it breaks on."""
    text = "id: bad-rule\ndescription: x\nwhen: [unclosed\nthen:\n  - note: hi\n"
    with pytest.raises(DataFileError, match=r"your rule:\d+: YAML syntax error"):
        tuning.save_rule(GUILD, MOD, text)


def test_unknown_field_names_the_field_and_line(tuning: Tuning) -> None:
    """A field rules don't have is named, with its line."""
    text = HILL_RULE + "colour: green\n"
    with pytest.raises(DataFileError, match=r"your rule:8: rule 'club-hill-note' field 'colour'"):
        tuning.save_rule(GUILD, MOD, text)


def test_bad_condition_names_the_when_line(tuning: Tuning) -> None:
    """A condition using an unknown variable is refused at its line, with a suggestion."""
    text = HILL_RULE.replace("'hills' in goals", "'hills' in goal")
    with pytest.raises(DataFileError, match=r"your rule:5: .*field 'when'.*Did you mean 'goals'"):
        tuning.save_rule(GUILD, MOD, text)


def test_unknown_exercise_is_refused(tuning: Tuning) -> None:
    """A rule adding an exercise the catalogue lacks is refused, naming it."""
    text = HILL_RULE.replace("  - note: The club's", "  - remove_exercise: moon-squat\n  - note: The club's")
    with pytest.raises(DataFileError, match="unknown exercise 'moon-squat'"):
        tuning.save_rule(GUILD, MOD, text)


def test_nothing_is_saved_when_validation_fails(tuning: Tuning, storage: Storage) -> None:
    """A refused rule leaves the overrides and the history untouched."""
    with pytest.raises(DataFileError):
        tuning.save_rule(GUILD, MOD, HILL_RULE.replace("priority: 100", "priority: lots"))
    assert storage.guilds.get(GUILD)["rule_overrides"] == {}
    assert tuning.history(GUILD) == []


def test_text_longer_than_a_modal_is_refused(coach: Coach) -> None:
    """More than a modal can hold is refused before it is parsed."""
    with pytest.raises(DataFileError, match="too long"):
        parse_moderator_rule(HILL_RULE + "#" * MAX_TEXT, coach.ruleset)


def test_commands_outside_a_server_are_refused(tuning: Tuning) -> None:
    """Tuning needs a server id; a DM (None) gets a clear refusal."""
    with pytest.raises(TuningError, match="inside a server"):
        tuning.save_rule(None, MOD, HILL_RULE)  # type: ignore[arg-type]


# ---- YAML round trips


def test_every_shipped_rule_round_trips_through_the_edit_yaml(coach: Coach) -> None:
    """The YAML shown in the edit modal parses back to the same rule and fits the modal."""
    for rule in coach.ruleset.rules:
        text = rule_to_yaml(rule)
        assert len(text) <= MAX_TEXT
        assert parse_moderator_rule(text, coach.ruleset) == rule


def test_export_loads_back_as_the_same_rule_set(tuning: Tuning) -> None:
    """The exported file holds exactly the server's effective rules."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    tuning.set_enabled(GUILD, MOD, "race-far-off", False)
    effective = tuning.ruleset_for(GUILD)
    data, node = load_yaml(export_yaml(effective), "export")
    assert parse_rules(data, "export", node) == effective.rules


# ---- audit trail, history, revert, reset


def test_audit_entry_has_before_and_after(tuning: Tuning, coach: Coach) -> None:
    """An edit records who, what, and the rule before and after."""
    change = tuning.save_rule(GUILD, MOD, edited("race-far-off", coach, priority=700))
    entry = tuning.history(GUILD)[0]
    assert (entry["change_id"], entry["actor_id"], entry["kind"], entry["target"], entry["action"]) == (
        change, MOD, "rule", "race-far-off", "edit")
    assert (entry["before"]["priority"], entry["after"]["priority"]) == (780, 700)


def test_added_rule_has_no_before(tuning: Tuning) -> None:
    """Adding a rule records nothing before and the new rule after."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    entry = tuning.history(GUILD)[0]
    assert (entry["action"], entry["before"], entry["after"]["id"]) == ("add", None, "club-hill-note")


def test_history_is_newest_first_and_pages_back(tuning: Tuning) -> None:
    """History lists the latest change first, and `before` pages to older ones."""
    first = tuning.set_enabled(GUILD, MOD, "race-far-off", False)
    second = tuning.save_rule(GUILD, MOD, HILL_RULE)
    third = tuning.set_enabled(GUILD, MOD, "race-far-off", True)
    assert [entry["change_id"] for entry in tuning.history(GUILD)] == [third, second, first]
    assert [entry["change_id"] for entry in tuning.history(GUILD, limit=1, before=third)] == [second]


def test_history_limit_out_of_range_is_refused(tuning: Tuning) -> None:
    """Asking for a silly number of entries gets a friendly refusal."""
    with pytest.raises(TuningError, match="1 to 50"):
        tuning.history(GUILD, limit=10_000)


def test_revert_restores_the_rule_before_the_change(tuning: Tuning, coach: Coach) -> None:
    """Reverting an edit of a default rule brings the default back, as a new change."""
    change = tuning.save_rule(GUILD, MOD, edited("race-far-off", coach, priority=700))
    revert = tuning.revert(GUILD, MOD, change)
    assert tuning.ruleset_for(GUILD) is coach.ruleset
    entry = tuning.history(GUILD)[0]
    assert (entry["change_id"], entry["kind"], entry["reverts"], entry["after"]["priority"]) == (
        revert, "revert", change, 780)


def test_reverting_an_addition_removes_the_rule(tuning: Tuning) -> None:
    """Undoing an added rule takes it out of the server's rule set."""
    change = tuning.save_rule(GUILD, MOD, HILL_RULE)
    tuning.revert(GUILD, MOD, change)
    assert "club-hill-note" not in tuning.ruleset_for(GUILD).by_id


def test_a_revert_can_itself_be_reverted(tuning: Tuning) -> None:
    """Reverting the revert puts the change back."""
    change = tuning.save_rule(GUILD, MOD, HILL_RULE)
    undo = tuning.revert(GUILD, MOD, change)
    tuning.revert(GUILD, MOD, undo)
    assert "club-hill-note" in tuning.ruleset_for(GUILD).by_id


def test_revert_of_an_unknown_change_is_refused(tuning: Tuning) -> None:
    """A change number that doesn't exist on this server is a friendly error."""
    with pytest.raises(TuningError, match="no change #7"):
        tuning.revert(GUILD, MOD, 7)


def test_reset_restores_the_defaults_and_can_be_reverted(tuning: Tuning, coach: Coach) -> None:
    """Reset drops every rule override; reverting the reset brings them all back."""
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    tuning.set_enabled(GUILD, MOD, "race-far-off", False)
    tuned = tuning.ruleset_for(GUILD).version
    reset = tuning.reset_rules(GUILD, MOD)
    assert tuning.ruleset_for(GUILD) is coach.ruleset
    tuning.revert(GUILD, MOD, reset)
    assert tuning.ruleset_for(GUILD).version == tuned


def test_reset_with_nothing_to_reset_is_refused(tuning: Tuning) -> None:
    """Resetting a server that has no overrides says so and records nothing."""
    with pytest.raises(TuningError, match="default rules already"):
        tuning.reset_rules(GUILD, MOD)
    assert tuning.history(GUILD) == []


def test_mod_role_change_is_recorded(tuning: Tuning, storage: Storage) -> None:
    """Setting the moderator role stores it and records the change."""
    tuning.set_mod_role(GUILD, MOD, 555)
    entry = tuning.history(GUILD)[0]
    assert storage.guilds.get(GUILD)["mod_role_id"] == 555
    assert (entry["kind"], entry["action"], entry["before"], entry["after"]) == ("settings", "modrole", None, 555)


def test_broken_stored_override_is_skipped_and_reported(tuning: Tuning, storage: Storage, coach: Coach) -> None:
    """An override that no longer validates is left out and listed, and plans are still made."""
    broken = {"rule": {"id": "ghost", "description": "x", "when": "true", "then": [{"remove_exercise": "gone"}]}}
    storage.guilds.update(GUILD, lambda settings: {**settings, "rule_overrides": {"ghost": broken}})
    assert "ghost" in " ".join(tuning.problems(GUILD))
    assert tuning.plan_for(GUILD, hill_runner(), START).weeks


# ---- impact


def test_impact_counts_exactly_the_hill_runners(tuning: Tuning, storage: Storage) -> None:
    """A rule that only affects hill runners changes exactly those plans among 50 saved profiles."""
    hills = seeded_profiles(storage)
    _, found = tuning.preview_rule(GUILD, HILL_RULE)
    assert (found.total, found.changed) == (50, hills)


def test_impact_counts_only_members_who_planned_in_this_server(tuning: Tuning, storage: Storage) -> None:
    """Profiles of members who only planned in another server are not counted in this server's preview."""
    hills = seeded_profiles(storage, 20)
    storage.profiles.save(9999, Profile(weekly_km=40, level="beginner", goals=["hills"]), guild_id=GUILD + 1)
    _, found = tuning.preview_rule(GUILD, HILL_RULE)
    assert (found.total, found.changed) == (20, hills)


def test_impact_example_is_readable_and_anonymous(tuning: Tuning, storage: Storage) -> None:
    """The example diff names the change and no member id."""
    seeded_profiles(storage)
    _, found = tuning.preview_rule(GUILD, HILL_RULE)
    assert found.example is not None and HILL_NOTE in found.example
    assert "1000" not in found.example


def test_preview_saves_nothing(tuning: Tuning, storage: Storage) -> None:
    """A preview validates and counts but leaves the server as it was."""
    seeded_profiles(storage, 5)
    tuning.preview_rule(GUILD, HILL_RULE)
    assert storage.guilds.get(GUILD)["rule_overrides"] == {} and tuning.history(GUILD) == []


def test_preview_can_count_only_the_servers_members(tuning: Tuning, storage: Storage) -> None:
    """With member ids given, only those members' profiles are counted."""
    seeded_profiles(storage)
    _, found = tuning.preview_rule(GUILD, HILL_RULE, members={1000, 1001, 1005})
    assert (found.total, found.changed) == (3, 2)


def test_preview_toggle_counts_the_profiles_the_rule_fires_for(tuning: Tuning, storage: Storage) -> None:
    """Disabling the achilles note would change exactly the plans of runners with an achilles niggle."""
    seeded_profiles(storage, 30)
    achilles = sum(1 for _, profile in storage.profiles.all() if "achilles" in profile.niggles)
    found = tuning.preview_toggle(GUILD, "safety-achilles-rehab-mention", False)
    assert (found.total, found.changed) == (30, achilles)


def test_impact_stops_at_the_limit(coach: Coach) -> None:
    """No more than `limit` profiles are planned."""
    proposed = effective_ruleset(coach.ruleset, {"safety-several-niggles": {"enabled": False}})
    found = impact(coach.ruleset, proposed, [hill_runner()] * 10, START, limit=4)
    assert found.total == 4


def test_plan_diff_names_the_new_note(tuning: Tuning, coach: Coach) -> None:
    """The diff of two plans lists what a member would see change."""
    before = coach.plan(hill_runner(), START)
    tuning.save_rule(GUILD, MOD, HILL_RULE)
    after = tuning.plan_for(GUILD, hill_runner(), START)
    assert plan_diff(before, after) == [f"new note: {HILL_NOTE}"]


def test_plan_diff_names_removed_exercises(coach: Coach) -> None:
    """Removing an exercise shows up as dropped in the weeks it was in."""
    before = coach.plan(hill_runner(), START)
    first = before.weeks[0].sessions[0].exercises[0]
    rule = {"id": "no-first", "description": "Drop one exercise.", "when": "true",
            "then": [{"remove_exercise": first.id}]}
    after = coach.plan(hill_runner(), START, ruleset=effective_ruleset(coach.ruleset, {"no-first": {"rule": rule}}))
    assert any(line.startswith("week 1: drops") and first.name in line for line in plan_diff(before, after))


# ---- FAQ


FAQ_ENTRY = """\
id: club-hill-night
question: When is the club's hill night?
phrasings:
  - what night are club hill repeats
  - when do we do hills together
answer: Hill repeats are on Thursdays at 7pm from the car park.
variants:
  - when: has_profile
    text: Hill repeats are on Thursdays at 7pm from the car park. Level {level} welcome.
"""


def test_faq_entry_added_for_the_server_only(tuning: Tuning) -> None:
    """A server's new FAQ entry is answered there and unknown elsewhere."""
    tuning.save_faq_entry(GUILD, MOD, FAQ_ENTRY)
    assert "Thursdays" in tuning.faq_for(GUILD).render_answer("club-hill-night")
    assert "club-hill-night" not in tuning.faq_for(OTHER_GUILD)


def test_faq_edit_of_a_default_entry(tuning: Tuning, coach: Coach) -> None:
    """Editing a default entry changes the server's answer and records before and after."""
    default = coach.faq.entries[0]
    text = FAQ_ENTRY.replace("club-hill-night", default.id)
    tuning.save_faq_entry(GUILD, MOD, text)
    entry = tuning.history(GUILD)[0]
    assert "Thursdays" in tuning.faq_for(GUILD).render_answer(default.id)
    assert (entry["kind"], entry["action"], entry["before"]["answer"]) == ("faq", "edit", default.answer)


def test_faq_remove_and_revert(tuning: Tuning, coach: Coach) -> None:
    """Removing a default entry hides it; reverting the removal brings it back."""
    entry_id = coach.faq.entries[0].id
    change = tuning.remove_faq_entry(GUILD, MOD, entry_id)
    assert entry_id not in tuning.faq_for(GUILD)
    tuning.revert(GUILD, MOD, change)
    assert tuning.faq_for(GUILD) is coach.faq


def test_removing_a_server_entry_deletes_it(tuning: Tuning, coach: Coach) -> None:
    """Removing an entry the server added leaves the default FAQ."""
    tuning.save_faq_entry(GUILD, MOD, FAQ_ENTRY)
    tuning.remove_faq_entry(GUILD, MOD, "club-hill-night")
    assert tuning.faq_for(GUILD) is coach.faq


def test_faq_history_lists_each_change(tuning: Tuning) -> None:
    """Add, edit and remove of an entry are three history entries, newest first."""
    tuning.save_faq_entry(GUILD, MOD, FAQ_ENTRY)
    tuning.save_faq_entry(GUILD, MOD, FAQ_ENTRY.replace("Thursdays", "Tuesdays"))
    tuning.remove_faq_entry(GUILD, MOD, "club-hill-night")
    assert [entry["action"] for entry in tuning.history(GUILD)] == ["remove", "edit", "add"]


def test_faq_entry_with_unknown_variable_is_refused(tuning: Tuning, storage: Storage) -> None:
    """An answer using a placeholder answers don't have names the field, and nothing is saved."""
    with pytest.raises(DataFileError, match=r"field 'answer': variants\[0\].text: unknown placeholder \{token\}"):
        tuning.save_faq_entry(GUILD, MOD, FAQ_ENTRY.replace("{level}", "{token}"))
    assert storage.guilds.get(GUILD)["faq_overrides"] == {}


def test_faq_entry_missing_field_is_named(tuning: Tuning) -> None:
    """An entry without phrasings says which field is missing."""
    text = "\n".join(line for line in FAQ_ENTRY.splitlines() if "phrasings" not in line and "  - " not in line)
    with pytest.raises(DataFileError, match="field 'phrasings': missing"):
        tuning.save_faq_entry(GUILD, MOD, text)


def test_unknown_faq_entry_removal_is_refused(tuning: Tuning) -> None:
    """Removing an id that isn't there is a friendly error."""
    with pytest.raises(TuningError, match="no FAQ entry"):
        tuning.remove_faq_entry(GUILD, MOD, "no-such-entry")


def test_effective_faq_without_overrides_is_the_default(coach: Coach) -> None:
    """No FAQ overrides means the shipped FAQ object."""
    assert effective_faq(coach.faq, {}) is coach.faq


# ---- reload


@pytest.fixture
def own_coach(tmp_path: Path, settings: Settings) -> Coach:
    """A Coach over a private copy of rules/, so reloading can't disturb other tests."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(settings.rules_dir, rules_dir)
    return Coach.load(Settings(_env_file=None, rules_dir=rules_dir))


def test_reload_with_a_broken_file_changes_nothing(own_coach: Coach, storage: Storage) -> None:
    """A broken rule file makes reload fail with its name, and the bot keeps its rules and FAQ."""
    tuning = Tuning(own_coach, storage)
    before_rules, before_faq = own_coach.ruleset, own_coach.faq
    path = own_coach.rules_dir / "rules" / "20-race.yaml"
    path.write_text(path.read_text().replace("priority: 800", "priority: high"))
    with pytest.raises(DataFileError, match=r"20-race\.yaml"):
        tuning.reload_defaults()
    assert own_coach.ruleset is before_rules and own_coach.faq is before_faq


def test_reload_with_a_broken_faq_changes_nothing(own_coach: Coach, storage: Storage) -> None:
    """A broken FAQ file also leaves both the rules and the FAQ as they were."""
    tuning = Tuning(own_coach, storage)
    before_rules = own_coach.ruleset
    (own_coach.rules_dir / "faq.yaml").write_text("entries: [")
    with pytest.raises(DataFileError, match=r"faq\.yaml"):
        tuning.reload_defaults()
    assert own_coach.ruleset is before_rules


def test_reload_swaps_in_the_new_defaults(own_coach: Coach, storage: Storage) -> None:
    """A valid edit of the files is picked up and plans use the new version."""
    tuning = Tuning(own_coach, storage)
    path = own_coach.rules_dir / "rules" / "20-race.yaml"
    path.write_text(path.read_text().replace("priority: 780", "priority: 781"))
    version = tuning.reload_defaults()
    assert own_coach.ruleset.version == version
    assert own_coach.plan(hill_runner(), START).rules_version == version


def test_impact_start_is_a_block_start(coach: Coach) -> None:
    """Impact plans from a Monday even when given another day, like the planner."""
    proposed = effective_ruleset(coach.ruleset, {"safety-several-niggles": {"enabled": False}})
    wednesday = START + dt.timedelta(days=2)
    found = impact(coach.ruleset, proposed, [Profile(weekly_km=40, level="beginner", goals=["general"],
                                                     niggles=["knee", "calf", "hip"])], wednesday)
    assert found.changed == 1


# ---- stored overrides saved before conditions and answers were CEL


def store(storage: Storage, key: str, value: dict) -> None:
    def put(settings: dict) -> dict:
        settings[key] = value
        return settings
    storage.guilds.update(GUILD, put)


OLD_RULE = {"id": "club-hills", "description": "Old-style club rule.", "priority": 50, "enabled": True, "tags": [],
            "when": "'hills' in goals and weekly_km >= 30", "then": [{"note": "Club hill night is Thursday."}]}


def test_a_stored_jinja_rule_is_converted_when_read(tuning: Tuning, storage: Storage) -> None:
    """A rule saved with a Jinja condition works as before: converted to CEL, and it still fires."""
    store(storage, "rule_overrides", {"club-hills": {"rule": OLD_RULE}})
    rule = tuning.ruleset_for(GUILD).by_id["club-hills"]
    assert rule.when == "'hills' in goals && weekly_km >= 30.0" and rule.enabled
    assert "Club hill night is Thursday." in tuning.plan_for(GUILD, hill_runner(), START).notes
    assert tuning.problems(GUILD) == []


def test_a_stored_rule_that_cant_be_converted_is_kept_switched_off_with_the_reason(
        tuning: Tuning, storage: Storage) -> None:
    """`round` has no CEL form: the rule stays listed (switched off) and moderators are told why."""
    store(storage, "rule_overrides", {"club-hills": {"rule": {**OLD_RULE, "when": "weekly_km|round(1) > 30"}}})
    rule = tuning.ruleset_for(GUILD).by_id["club-hills"]
    assert not rule.enabled and rule.description == "Old-style club rule."
    problems = tuning.problems(GUILD)
    assert len(problems) == 1 and "switched off" in problems[0] and "'| round' has no CEL form" in problems[0]
    assert storage.guilds.get(GUILD)["rule_overrides"]["club-hills"]["rule"]["when"] == "weekly_km|round(1) > 30"
    assert "Club hill night is Thursday." not in tuning.plan_for(GUILD, hill_runner(), START).notes


OLD_ENTRY = {"id": "club-night", "question": "When is the club's hill night?", "phrasings": ["club hill night"],
             "answer": "Thursdays at 7pm.{% if has_profile %} See you there, {{ level }} lifter!{% endif %}"}


def test_a_stored_jinja_answer_is_converted_when_read(tuning: Tuning, storage: Storage) -> None:
    """An FAQ answer saved as a Jinja template reads the same after conversion to text and variants."""
    store(storage, "faq_overrides", {"club-night": {"entry": OLD_ENTRY}})
    faq = tuning.faq_for(GUILD)
    assert faq.render_answer("club-night") == "Thursdays at 7pm."
    level = road_runner().level.value
    assert faq.render_answer("club-night", road_runner()).endswith(f"See you there, {level} lifter!")
    assert tuning.faq_problems(GUILD) == []


def test_a_stored_answer_that_cant_be_converted_is_left_out_with_the_reason(tuning: Tuning, storage: Storage) -> None:
    """A loop has no form in an answer: the entry is kept in storage, left out of the FAQ, and the reason shown."""
    looping = {**OLD_ENTRY, "answer": "{% for g in goals %}{{ g }}{% endfor %}"}
    store(storage, "faq_overrides", {"club-night": {"entry": looping}})
    assert "club-night" not in tuning.faq_for(GUILD)
    problems = tuning.faq_problems(GUILD)
    assert len(problems) == 1 and "switched off" in problems[0] and "'For' blocks" in problems[0]
    assert storage.guilds.get(GUILD)["faq_overrides"]["club-night"]["entry"] == looping


def test_a_change_confirmed_after_another_is_refused(tuning: Tuning) -> None:
    """Optimistic concurrency: a save carrying the fingerprint of its preview fails once the rule moved on."""
    seen = tuning.version_of(GUILD, "rule", "goal-speed")
    tuning.set_enabled(GUILD, MOD, "goal-speed", False)
    with pytest.raises(StaleChange, match="changed by someone else since your preview") as refused:
        tuning.set_enabled(GUILD, MOD, "goal-speed", False, expected=seen)
    assert "enabled: false" in (refused.value.current or "")
    assert len(tuning.history(GUILD)) == 1
    fresh = tuning.version_of(GUILD, "rule", "goal-speed")
    tuning.set_enabled(GUILD, MOD, "goal-speed", True, expected=fresh)


def test_every_change_is_undone_by_its_inverse(tuning: Tuning, storage: Storage) -> None:
    """Rule, FAQ, reset and moderator-role changes all revert the same way: the recorded Change's inverse
    puts back exactly the stored settings from before."""
    from bot.tuning import Change

    actions = [
        lambda: tuning.set_enabled(GUILD, MOD, "goal-speed", False),
        lambda: tuning.save_faq_entry(GUILD, MOD, FAQ_ENTRY),
        lambda: tuning.set_mod_role(GUILD, MOD, 4242),
        lambda: tuning.reset_rules(GUILD, MOD),
    ]
    for action in actions:
        before = storage.guilds.get(GUILD)
        change_id = action()
        recorded = Change.from_audit(storage.audit.get(GUILD, change_id))
        assert recorded is not None and recorded.inverse().inverse() == recorded
        tuning.revert(GUILD, MOD, change_id)
        after = storage.guilds.get(GUILD)
        for key in ("rule_overrides", "faq_overrides", "mod_role_id"):
            assert after.get(key) == before.get(key), key
        action()  # and again, so the next action starts from a changed server


def test_malformed_stored_overrides_are_reported_not_fatal(tuning: Tuning, storage: Storage) -> None:
    """Overrides are typed models: a stored value of the wrong shape is skipped and named, for rules and FAQ."""
    store(storage, "rule_overrides", {"goal-speed": {"enabled": "sometimes", "colour": "red"},
                                      "goal-hills": {"enabled": False}})
    store(storage, "faq_overrides", {"how-often": {"removed": True, "entry": {"id": "x"}}})
    assert tuning.ruleset_for(GUILD).by_id["goal-hills"].enabled is False
    assert tuning.ruleset_for(GUILD).by_id["goal-speed"].enabled is True
    assert any("override for 'goal-speed' can't be read" in line for line in tuning.problems(GUILD))
    assert any("override for 'how-often' can't be read" in line for line in tuning.faq_problems(GUILD))
    assert "how-often" in tuning.faq_for(GUILD)


def test_a_shipped_entry_round_trips_through_the_edit_form_within_discords_limit(coach):
    """Every shipped entry fits the edit form, and saving the form unchanged keeps its example questions."""
    from bot.tuning import entry_to_yaml, parse_moderator_entry

    for entry in coach.faq.entries:
        text = entry_to_yaml(entry, coach.faq)
        assert len(text) <= 4000, entry.id
        assert parse_moderator_entry(text, coach.faq) == entry


def test_a_server_entry_without_examples_is_refused(coach):
    """Only a shipped entry's id inherits its example questions; a new entry must bring its own."""
    from bot.tuning import parse_moderator_entry

    with pytest.raises(DataFileError, match="phrasings"):
        parse_moderator_entry("id: brand-new\nquestion: A brand new question?\nanswer: Yes.\n", coach.faq)
