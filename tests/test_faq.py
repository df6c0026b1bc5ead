"""Tests of the FAQ: loading and validation, learned matching (targets on held-out files), answers, the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import utils

from bot.cli import main
from bot.faq import (
    ANSWER_LIMIT,
    MAX_QUESTION_CHARS,
    FaqBase,
    FaqEntry,
    FaqError,
    default_faq_path,
    load_faq,
)
from bot.faq_eval import evaluate, evaluate_moderator, read_labelled, read_moderator
from bot.faq_eval import main as faq_eval_main
from bot.models import DAYS, Goal, Level, Niggle, Profile
from bot.text import CONTENT_LIMIT

DATA = Path(__file__).parent / "data"
# Held-out sets, written by a helper who saw neither the code nor the entries nor earlier sets, run once
# (2026-12-02); never tune on them. faq_blind4/5.yaml and faq_moderator.yaml / faq_moderator2.yaml, the sets
# before them, are spent: development data now.
BLIND_FILES = ("faq_blind6.yaml",)
MODERATOR_FILES = ("faq_moderator3.yaml",)
# Moderator-style entries written while tuning (development data).
MODERATOR_DEV = DATA / "faq_moderator_dev.yaml"
REQUIRED_IDS = {
    "how-often", "bulky", "scheduling", "warm-up", "soreness-vs-pain", "nutrition", "cross-training",
    "eccentric", "plyometrics", "single-leg", "race-week", "missed-session", "no-equipment", "mobility",
    "tempo", "hip-core", "progression", "recovery", "session-length", "which-level",
}


@pytest.fixture(scope="module")
def base() -> FaqBase:
    return load_faq(default_faq_path())


def entry(**overrides) -> dict:
    data = {
        "id": "sample",
        "question": "Is this a sample question?",
        "phrasings": ["a sample phrasing"],
        "tags": ["sample"],
        "answer": "A short answer.",
    }
    data.update(overrides)
    return data


def write_faq(tmp_path: Path, entries: list[dict] | str) -> Path:
    path = tmp_path / "faq.yaml"
    text = entries if isinstance(entries, str) else yaml.safe_dump({"entries": entries}, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


# ---- the shipped file


def test_shipped_file_loads_with_required_ids(base):
    """The shipped FAQ loads, has at least 24 entries, and holds every id the issue requires."""
    assert len(base) >= 24
    assert {entry_id for entry_id, _ in base.topics()} >= REQUIRED_IDS


def test_topics_are_in_file_order(base):
    """topics() lists (id, question) in the order of the file."""
    raw = yaml.safe_load(default_faq_path().read_text(encoding="utf-8"))["entries"]
    assert base.topics() == [(item["id"], item["question"]) for item in raw]


def test_answers_name_their_sources(base):
    """An answer with sources names each source's first author in its text (COACHING.md invariant 21)."""
    missing = []
    for item in base.entries:
        text = base.render_answer(item.id, None)
        missing += [f"{item.id}: {source}" for source in item.sources if source.split()[0] not in text]
    assert missing == []


def test_answers_never_call_the_ten_percent_rule_proven(base):
    """No answer presents the 10% rule as proven (COACHING.md invariant 19)."""
    text = base.render_answer("mileage-jumps", None).lower()
    assert "not a proven" in text


def test_missing_field_names_file_id_and_field(tmp_path):
    """A missing answer is reported with the file, the entry id and the field."""
    data = entry()
    del data["answer"]
    path = write_faq(tmp_path, [data])
    with pytest.raises(FaqError) as error:
        load_faq(path)
    message = str(error.value)
    assert str(path) in message and "'sample'" in message and "'answer'" in message


def test_duplicate_id_is_rejected(tmp_path):
    """Two entries with one id are reported, naming the id and the field."""
    path = write_faq(tmp_path, [entry(), entry(question="Another sample question?")])
    with pytest.raises(FaqError, match=r"entry 'sample' \(#2\), field 'id': duplicate id"):
        load_faq(path)


def test_template_syntax_is_rejected_with_id_and_field(tmp_path):
    """An answer written as a Jinja template fails at load, naming the entry and the answer field."""
    path = write_faq(tmp_path, [entry(answer="Hello {% if has_profile %} unclosed")])
    with pytest.raises(FaqError, match=r"entry 'sample' \(#1\), field 'answer': answer: answers aren't Jinja"):
        load_faq(path)


def test_unknown_variable_is_rejected_with_a_suggestion(tmp_path):
    """An answer using a placeholder that does not exist fails at load and suggests the close one."""
    path = write_faq(tmp_path, [entry(answer="You run {milage} a week.")])
    with pytest.raises(FaqError, match=r"field 'answer': answer: unknown placeholder \{milage\}. Did you mean "
                                       r"\{mileage\}"):
        load_faq(path)


def test_answer_failing_without_a_profile_is_rejected(tmp_path):
    """An answer that only reads well with a profile fails at load, saying what is empty without one."""
    path = write_faq(tmp_path, [entry(answer="You run {mileage} a week.")])
    with pytest.raises(FaqError, match=r"shown without a profile uses \{mileage\}, which is empty"):
        load_faq(path)


def test_overlong_answer_is_rejected(tmp_path):
    """An answer rendering beyond the limit fails at load with its length."""
    path = write_faq(tmp_path, [entry(answer="word " * 400)])
    with pytest.raises(FaqError, match=f"the limit is {ANSWER_LIMIT}"):
        load_faq(path)


def test_unknown_field_is_rejected(tmp_path):
    """A misspelt field (e.g. 'phrasing') is reported rather than ignored."""
    data = entry()
    data["phrasing"] = data.pop("phrasings")
    path = write_faq(tmp_path, [data])
    with pytest.raises(FaqError) as error:
        load_faq(path)
    assert "field 'phrasing': not a known field" in str(error.value)
    assert "field 'phrasings': missing" in str(error.value)


def test_yaml_syntax_error_gives_the_line(tmp_path):
    """A YAML syntax error names the file and the line."""
    text = textwrap.dedent("""\
        entries:
          - id: sample
            question: "unclosed
            answer: hi
        """)
    path = write_faq(tmp_path, text)
    with pytest.raises(FaqError, match=r"faq\.yaml, line \d+, column \d+: YAML syntax error"):
        load_faq(path)


def test_duplicate_yaml_key_is_rejected(tmp_path):
    """A key given twice in one entry is an error, not a silent overwrite."""
    text = "entries:\n  - id: a-b\n    id: c-d\n    question: Is this fine?\n    phrasings: [x y z]\n"
    path = write_faq(tmp_path, text)
    with pytest.raises(FaqError, match=r"line 3.*key 'id' appears twice"):
        load_faq(path)


def test_file_without_entries_key_is_rejected(tmp_path):
    """A file that does not start with `entries:` is reported."""
    path = write_faq(tmp_path, "topics: []\n")
    with pytest.raises(FaqError, match="field 'entries': missing"):
        load_faq(path)


def test_one_bad_entry_fails_the_whole_file_listing_every_problem(tmp_path):
    """A bad file never half-loads: the error lists each broken entry, and nothing is returned."""
    path = write_faq(tmp_path, [entry(id="good-one"), entry(id="Bad Id"), entry(id="third", answer="{x}")])
    with pytest.raises(FaqError) as error:
        load_faq(path)
    lines = str(error.value).splitlines()
    assert any("'Bad Id'" in line and "field 'id'" in line for line in lines)
    assert any("'third'" in line and "unknown placeholder {x}" in line for line in lines)


# ---- building from entries (moderator edits)


def test_from_entries_accepts_validated_entries(base):
    """A base can be rebuilt from FaqEntry objects plus one new raw entry, and matches the new one."""
    extra = entry(id="ice-baths", question="Are ice baths good after leg day?",
                  phrasings=["cold water immersion after lifting"], tags=["ice bath", "cold plunge"],
                  answer="They may blunt strength gains if used straight after lifting.")
    rebuilt = FaqBase.from_entries([*base.entries, extra], "guild 1")
    assert len(rebuilt) == len(base) + 1
    assert rebuilt.match("is a cold plunge after squats ok").entry_id == "ice-baths"


def test_from_entries_rejects_a_bad_edit_with_source_in_message(base):
    """A moderator's broken entry is rejected naming the source it came from."""
    with pytest.raises(FaqError, match=r"^guild 1: entry 'oops'"):
        FaqBase.from_entries([entry(id="oops", answer="{{ level.upper( }}")], "guild 1")


def test_faq_entry_is_a_frozen_model():
    """FaqEntry is immutable, so shared entries cannot be changed behind a base's back."""
    item = FaqEntry.model_validate(entry())
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        item.id = "other"  # type: ignore[misc]


# ---- matching quality


@pytest.mark.parametrize("question", ["what's the weather tomorrow?", "recommend a running watch",
                                      "how do I fix my bike", "how do i get better at push ups",
                                      "best exercises for bigger arms"])
def test_near_miss_questions_are_not_answered(base, question):
    """Questions near the topic but not about it get no confident answer."""
    assert base.match(question).status != "answer"


def test_weather_question_is_off_topic_and_says_so(base):
    """A question about something else gets the honest 'can't help' with the topics listed."""
    reply = base.answer("what's the weather tomorrow?")
    assert reply.status == "off-topic"
    assert "can't help" in reply.text and "`bulky`" in reply.text


def test_unsure_match_offers_three_topics(base):
    """A vague question is not guessed: the reply offers the three closest topics."""
    reply = base.answer("legs")
    assert reply.status == "unsure" and reply.entry_id is None
    assert len(reply.match.alternatives) == 3
    assert all(f"(`{i}`)" in reply.text for i in reply.match.alternatives)


@pytest.mark.parametrize(("question", "expected"), [
    ("wil sqauts make me bulky", "bulky"),
    ("bulky squats make me will?", "bulky"),
    ("plyos for a newbie?", "plyometrics"),
    ("DOMS after leg day, run or not", "soreness-vs-pain"),
])
def test_typos_word_order_and_slang(base, question, expected):
    """Typos, shuffled words and slang still find the right entry."""
    assert base.match(question).best_id == expected


def test_confident_answer_lists_other_ids_as_alternatives(base):
    """A confident match names its entry and up to three other ids, none of them itself."""
    found = base.match("what day should i do legs if my long run is sunday")
    assert found.status == "answer" and found.entry_id == "scheduling"
    assert 0 < len(found.alternatives) <= 3 and "scheduling" not in found.alternatives
    assert 0.0 <= found.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "?!?", "a" * 5000, "<@123> @everyone", "\u0000\u202e"])
def test_odd_input_never_crashes(base, text):
    """Empty, punctuation-only, huge and control-character questions give a reply, not an error."""
    reply = base.answer(text)
    assert reply.text and len(reply.text) <= CONTENT_LIMIT


def test_huge_question_is_capped(base):
    """Only the first characters of a very long question are matched: what comes after them changes nothing."""
    start = "will squats make me bulky? " + "really " * (MAX_QUESTION_CHARS // 7)
    assert base.match(start + " weather watch shoes tomorrow") == base.match(start)


# ---- answers


PROFILE = Profile(weekly_km=48.28, unit="mi", level="intermediate", goals=["speed"], long_run_day="sun",
                  hard_days=["tue", "thu"], niggles=["achilles"])


def test_answer_is_personalised_with_a_profile(base):
    """With a profile the scheduling answer names the long-run day and the day to keep free."""
    text = base.render_answer("scheduling", PROFILE)
    assert "Sunday" in text and "Saturday" in text and "Tuesday, Thursday" in text


def test_answer_uses_the_runners_unit(base):
    """The how-often answer quotes the mileage in the runner's own unit."""
    assert "30 mi a week" in base.render_answer("how-often", PROFILE)


def test_answer_reads_well_without_a_profile(base):
    """Without a profile no answer shows placeholders, None, or personal lines."""
    for item in base.entries:
        text = base.render_answer(item.id, None)
        assert "None" not in text and "{{" not in text and "{%" not in text
        assert "your long run is on" not in text


def test_render_unknown_id_raises_key_error(base):
    """Asking for an id that does not exist is a KeyError naming it."""
    with pytest.raises(KeyError, match="no-such-topic"):
        base.render_answer("no-such-topic", None)


def test_mentions_in_answers_are_neutralised():
    """An answer containing @everyone cannot ping anyone."""
    faq = FaqBase.from_entries([entry(answer="Hello @everyone")], "test")
    assert "@everyone" not in faq.render_answer("sample", None)


profiles = st.builds(
    Profile,
    weekly_km=st.floats(min_value=0, max_value=250, allow_nan=False),
    unit=st.sampled_from(["km", "mi"]),
    level=st.sampled_from(list(Level)),
    goals=st.lists(st.sampled_from(list(Goal)), min_size=1, max_size=6),
    long_run_day=st.none() | st.sampled_from(DAYS),
    hard_days=st.lists(st.sampled_from(DAYS), max_size=7),
    niggles=st.lists(st.sampled_from(list(Niggle)), max_size=9),
    sharp_pain=st.booleans(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=st.none() | profiles)
def test_every_answer_fits_discord_for_any_profile(base, profile):
    """Every entry's reply, for any profile, fits in one Discord message and in the answer budget."""
    for item in base.entries:
        text = base.render_answer(item.id, profile)
        assert 0 < len(text) <= ANSWER_LIMIT
        reply = base.answer(item.question, profile)
        assert len(reply.text) <= CONTENT_LIMIT


def test_shipped_answers_are_brief(base):
    """Shipped answers stay well under 1,000 characters, even personalised."""
    assert max(len(base.render_answer(item.id, PROFILE)) for item in base.entries) < 1000


# ---- autocomplete


def test_search_topics_respects_discord_limits(base):
    """Autocomplete gives at most 25 choices with names of at most 100 characters."""
    for text in ["", "s", "squat", "zzzz"]:
        found = base.search_topics(text)
        assert len(found) <= 25 and all(len(name) <= 100 for _, name in found)


def test_search_topics_finds_by_id_prefix(base):
    """Typing the start of an id puts that topic first."""
    assert base.search_topics("bul")[0][0] == "bulky"


def test_search_topics_finds_by_words(base):
    """Typing words of a question finds it."""
    assert "warm-up" in [i for i, _ in base.search_topics("warm up before")[:3]]


# ---- CLI


def test_cli_json_shape(capsys):
    """--json prints id, confidence, answer and alternatives for a confident match."""
    assert main(["faq", "will squats make me bulky?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == "bulky" and data["status"] == "answer"
    assert isinstance(data["confidence"], float) and isinstance(data["alternatives"], list)
    assert "Blagrove" in data["answer"]


def test_cli_json_off_topic_has_null_id(capsys):
    """An off-topic question gives id null in JSON."""
    assert main(["faq", "what's the weather tomorrow?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] is None and data["status"] == "off-topic"


def test_cli_personalises_with_profile_options(capsys):
    """Profile options personalise the printed answer."""
    code = main(["faq", "what day should i do legs if my long run is sunday", "--mileage", "30mi",
                 "--level", "beginner", "--goal", "speed", "--long-run", "sun"])
    assert code == 0
    assert "Since your long run is on Sunday" in capsys.readouterr().out


def test_cli_list_prints_every_topic(capsys, base):
    """--list prints every id."""
    assert main(["faq", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(entry_id in out for entry_id, _ in base.topics())


def test_cli_empty_question_exits_2(capsys):
    """No question gives a friendly message and exit status 2."""
    assert main(["faq", "  "]) == 2
    assert "ask a question" in capsys.readouterr().err


def test_cli_long_question_is_answered_with_a_note(capsys):
    """A 5,000-character question is answered, with a note that only the start was read."""
    assert main(["faq", "will squats make me bulky? " + "x" * 5000]) == 0
    captured = capsys.readouterr()
    assert "first 300" in captured.err and "bulky" in captured.out.lower()


def test_cli_bad_profile_value_exits_2(capsys):
    """A bad profile option exits 2 with a message saying what is accepted."""
    with pytest.raises(SystemExit) as exit_info:
        main(["faq", "how often?", "--mileage", "30mi", "--level", "wizard", "--goal", "speed"])
    assert exit_info.value.code == 2
    assert "beginner, intermediate, advanced" in capsys.readouterr().err


def test_cli_broken_faq_file_exits_1(tmp_path, capsys):
    """A broken FAQ file given with --file is reported with its problems, exit 1."""
    path = write_faq(tmp_path, [entry(answer="{nope}")])
    assert main(["faq", "anything", "--file", str(path)]) == 1
    assert "unknown placeholder {nope}" in capsys.readouterr().err


# ---- learned matching: targets on held-out files, moderators' entries, the evaluation command


def _present(names: tuple[str, ...]) -> list:
    return [pytest.param(DATA / name, id=name) for name in names]


@pytest.mark.parametrize("path", _present(BLIND_FILES))
def test_accuracy_targets_on_a_blind_set(base, path):
    """On a held-out set (on_topic/off_topic), the best match is right for at least 92% of on-topic
    questions and at most 3% of off-topic ones get a confident answer."""
    if not path.exists():
        pytest.skip(f"{path.name} is not there yet: the lead adds it for the final, one-off measurement")
    on, off = read_labelled(path)
    figures = evaluate(base, on, off)
    print("\n" + "\n".join(figures.lines(path.name)))
    assert figures.share("top1") >= 0.92
    assert figures.share("off_topic_answered") <= 0.03


def test_spent_blind_set_keeps_its_figures(base):
    """tests/data/faq_blind5.yaml (held out once, spent; its questions are not examples): the shipped FAQ's
    figures stay where they were (top-1 292/305, answered wrong at most 2, off-topic answered 0/80)."""
    on, off = read_labelled(DATA / "faq_blind5.yaml")
    figures = evaluate(base, on, off)
    assert figures.top1 >= 292 and figures.answered_wrong <= 2 and figures.off_topic_answered == 0


@pytest.mark.parametrize("path", _present(MODERATOR_FILES))
def test_moderator_targets_on_a_blind_set(base, path):
    """A held-out file of moderators' entries: every own question answered with its entry."""
    if not path.exists():
        pytest.skip(f"{path.name} is not there yet: the lead adds it for the final, one-off measurement")
    figures = evaluate_moderator(base, read_moderator(path))
    print("\n" + "\n".join(figures.lines()))
    assert figures.own == figures.own_total


@pytest.mark.xfail(strict=True, reason="target not met: the one held-out run of tests/data/faq_moderator3.yaml "
                   "(2026-12-02) answered 7/36 paraphrases with their entry (21/36 ranked first; leave one file "
                   "out over the spent files: 28/76); issue 10 stays open; strict, so meeting it shows")
@pytest.mark.parametrize("path", _present(MODERATOR_FILES))
def test_moderator_paraphrase_target_on_a_blind_set(base, path):
    """A held-out file of moderators' entries: at least 80% of the paraphrases answered with their entry."""
    if not path.exists():
        pytest.skip(f"{path.name} is not there yet: the lead adds it for the final, one-off measurement")
    figures = evaluate_moderator(base, read_moderator(path))
    assert figures.paraphrases >= 0.8 * figures.paraphrase_total


def test_moderator_dev_entries_are_answered(base):
    """The development moderator entries (the decision is calibrated on them: in-sample): every own question
    is answered with its entry, and paraphrases at least at the level they had when the floor was set."""
    entries = read_moderator(MODERATOR_DEV)
    assert len(entries) == 10 and all(2 <= len(e["examples"]) <= 3 for e in entries)
    figures = evaluate_moderator(base, entries)
    print("\n" + "\n".join(figures.lines()))
    assert figures.own == figures.own_total == 10
    assert figures.paraphrases >= 17 and figures.paraphrases_first >= 20


def test_moderator_entries_leave_one_file_out(monkeypatch):
    """The honest dev figure for server entries: for each spent moderator file, the decision calibrated
    (bench/faq_calibrate.py) on the shipped entries' cross-validation and the other files only, then scored
    on that file. Every own question answered; paraphrases at least at the level reached when the floor was
    set (28/76 answered with their entry, 54/76 ranked first, 2 answered wrongly)."""
    import bot.faq
    from bench import faq_calibrate

    monkeypatch.setattr(bot.faq, "model_cache_dir", lambda: None)  # one-off trainings: nothing to cache
    base = load_faq(default_faq_path())
    moderator = {name: faq_calibrate.moderator_rows(base, name) for name in faq_calibrate.MODERATOR_FILES}
    counts = faq_calibrate.leave_one_file_out(faq_calibrate.collect(base), moderator)
    print(counts)
    total = {key: sum(c[key] for c in counts.values()) for key in next(iter(counts.values()))}
    assert total["own"] == total["own_total"] == 32
    assert total["paraphrase_total"] == 76
    assert total["paraphrases"] >= 28 and total["first"] >= 54 and total["wrong"] <= 2


@pytest.mark.parametrize("question", ["best running shoes?", "what pace should my easy runs be",
                                      "pull-up program", "how do i lose weight by running"])
def test_running_questions_no_entry_covers_are_not_answered(base, question):
    """Running questions the FAQ has no entry for are not answered (the learned off-topic label)."""
    assert base.match(question).status != "answer"


def test_a_server_entry_is_learned_without_code_change(base, tmp_path):
    """A moderator's entry saved through tuning is answered on its own question in that server only."""
    from bot.tuning import effective_faq

    raw = {"id": "easy-pace", "question": "What pace should my easy runs be?",
           "examples": ["How slow should easy runs feel?", "Is my easy pace too fast?"],
           "answer": "Conversational: you can talk in full sentences."}
    server = effective_faq(base, {"easy-pace": {"entry": raw}})
    assert server is not base and "easy-pace" in server
    found = server.match("What pace should my easy runs be?")
    assert (found.status, found.entry_id) == ("answer", "easy-pace")
    assert base.match("What pace should my easy runs be?").status != "answer"
    assert server.match("will squats make me bulky").entry_id == "bulky"


def test_examples_is_another_name_for_phrasings():
    """An entry may list its example questions under `examples` (what moderators are told) or `phrasings`."""
    raw = {key: value for key, value in entry().items() if key != "phrasings"}
    item = FaqEntry.model_validate(raw | {"examples": ["one way to ask it"]})
    assert item.phrasings == ["one way to ask it"]


def test_off_topic_file_faults_name_the_file(tmp_path):
    """A broken off-topic file beside a FAQ file fails the load with the file named, never half-loads."""
    path = write_faq(tmp_path, [entry()])
    (tmp_path / "faq_off_topic.yaml").write_text("off_topic: [ab]\n", encoding="utf-8")
    with pytest.raises(FaqError, match=r"faq_off_topic\.yaml"):
        load_faq(path)


def test_a_faq_of_one_entry_without_off_topic_examples_still_matches(tmp_path):
    """One entry and nothing else to learn from: its own question is still found."""
    base = load_faq(write_faq(tmp_path, [entry()]))
    assert base.match("Is this a sample question?").best_id == "sample"


def test_evaluate_command_prints_figures_and_misses(tmp_path, capsys):
    """`python -m bot.faq_eval FILE --moderator FILE2` prints top-1, off-topic answered and the misses."""
    blind = tmp_path / "blind.yaml"
    blind.write_text(yaml.safe_dump({"on_topic": [["will squats make my legs huge", "bulky"],
                                                  ["how often should i lift", "bulky"]],
                                     "off_topic": ["what's the weather tomorrow?"]}), encoding="utf-8")
    assert faq_eval_main([str(blind), "--moderator", str(MODERATOR_DEV)]) == 0
    out = capsys.readouterr().out
    assert "top-1 50.0% (1/2)" in out and "off-topic answered confidently 0.0% (0/1)" in out
    assert "expected bulky, got how-often" in out and "bulky -> how-often: 1" in out
    assert "own question answered 10/10" in out and "(their entry ranked first: " in out


@pytest.mark.parametrize("text", ["on_topic: [[just one item]]\n", "[1, 2]\n", "on_topic: [\n"])
def test_evaluate_command_rejects_a_bad_file_with_exit_2(tmp_path, capsys, text):
    """A file of the wrong shape is named with what is expected, exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    assert faq_eval_main([str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_a_base_with_no_entries_never_crashes():
    """A server FAQ with every entry removed (tuning refuses to save it) still matches: off-topic."""
    empty = FaqBase([], "server FAQ")
    assert empty.match("will squats make me bulky").status == "off-topic"
    assert empty.answer("will squats make me bulky").text


def test_an_entry_whose_examples_claim_every_off_topic_example_still_trains(tmp_path):
    """Off-topic examples all covered by an entry: training keeps them rather than fail with one label."""
    path = write_faq(tmp_path, [entry(phrasings=["how do i lace my shoes"])])
    (tmp_path / "faq_off_topic.yaml").write_text("off_topic: [how do i lace my shoes]\n", encoding="utf-8")
    base = load_faq(path)
    assert base.match("Is this a sample question?").best_id == "sample"


def test_no_example_question_is_labelled_twice(base):
    """The training data never gives one question two labels (two entries, or an entry and off-topic)."""
    owner: dict[str, str] = {}
    clashes = []
    for label, texts in [(e.id, [e.question, *e.phrasings]) for e in base.entries] + [("off-topic", base.off_topic)]:
        for text in texts:
            key = utils.default_process(text)
            if owner.setdefault(key, label) != label:
                clashes.append((text, owner[key], label))
    assert not clashes


def test_training_examples_are_bounded(monkeypatch, base):
    """Past the bound each entry keeps its first share of examples, its question first: training time is
    bounded whatever a server saves, and every entry is still found by its own question."""
    import bot.faq as faq_module

    monkeypatch.setattr(faq_module, "_MAX_EXAMPLES", 300)
    small = FaqBase(list(base.entries), "bounded", base.off_topic, base.vocabulary)
    share = max(faq_module._MIN_SHARE, 300 // (len(base) + 1))
    assert small._classifier.counts.max() <= max(share, len(base.off_topic))
    assert all(small.match(entry.question).best_id == entry.id for entry in base.entries)


def test_answer_sentences_leave_out_placeholders_and_markup():
    """An answer's sentences become examples of its entry without placeholders, Markdown or short scraps."""
    text = "**Twice a week** suits most {level} runners.\nOk.\nKeep `one` session light before {long_run_day_name}!"
    from bot.faq import answer_sentences

    assert answer_sentences(text) == ["Twice a week suits most runners.", "Keep one session light before !"]


def test_a_new_entry_with_three_examples_is_answered_on_a_paraphrase(base):
    """A moderator's entry with three examples is answered on a question worded unlike any of them."""
    from bot.faq_eval import with_moderator_entries

    server = with_moderator_entries(base, [{
        "id": "track-night", "question": "When is the club's track session?",
        "examples": ["what time is track on wednesday", "where do we do intervals as a club",
                     "is the track session open to beginners"],
        "answer": "Track is Wednesday at 7pm at the university track; all paces welcome, bring spikes if you like."}])
    found = server.match("whats the time for the wednesday track sesh")
    assert (found.status, found.entry_id) == ("answer", "track-night")
    assert server.match("will squats make me bulky").entry_id == "bulky"
