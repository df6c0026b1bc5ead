"""Tests of the FAQ: loading and validation, matching quality on a labelled set, answers, and the CLI."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, utils

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
from bot.models import DAYS, Goal, Level, Niggle, Profile
from bot.text import CONTENT_LIMIT

LABELLED = Path(__file__).parent / "data" / "faq_labelled.yaml"
# Written by another engineer without seeing the entries, the matcher or the earlier sets; never tuned on.
# (The first two blind sets, faq_blind.yaml and faq_blind2.yaml, were each measured once and then merged
# into the development set; faq_blind2.yaml's run, with the matcher of 3f20fd3, gave top-1 89.3%.)
# First and only run, with the matcher of fc31311: top-1 90.5% (228/252), off-topic answered confidently
# 2.4% (2/82); answered right 64.7% (163/252), wrong 1.6% (4/252). Caveat: 11 of its on-topic and 21 of its
# off-topic questions are already in the dev set word for word (23 on-topic within fuzz ratio 90), all of
# them matched right; without the 23 near-repeats top-1 is 89.5% (205/229).
BLIND = Path(__file__).parent / "data" / "faq_blind3.yaml"
REQUIRED_IDS = {
    "how-often", "bulky", "scheduling", "warm-up", "soreness-vs-pain", "nutrition", "cross-training",
    "eccentric", "plyometrics", "single-leg", "race-week", "missed-session", "no-equipment", "mobility",
    "tempo", "hip-core", "progression", "recovery", "session-length", "which-level",
}


@pytest.fixture(scope="module")
def base() -> FaqBase:
    return load_faq(default_faq_path())


@pytest.fixture(scope="module")
def labelled() -> dict[str, list[tuple[str, str | None]]]:
    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return {split: [(q, i) for q, i in items] for split, items in data.items()}


@pytest.fixture(scope="module")
def blind() -> list[tuple[str, str | None]]:
    """The blind set as (question, expected id or None for off-topic)."""
    data = yaml.safe_load(BLIND.read_text(encoding="utf-8"))
    return [(q, i) for q, i in data["on_topic"]] + [(q, None) for q in data["off_topic"]]


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


def test_labelled_questions_are_not_copies_of_phrasings(base, labelled):
    """No labelled question is a near-copy of an entry's question or phrasings."""
    known = [utils.default_process(t) for e in base.entries for t in (e.question, *e.phrasings)]
    copies = [
        q for items in labelled.values() for q, _ in items
        if max(fuzz.ratio(utils.default_process(q), k) for k in known) >= 85
    ]
    assert copies == []


# ---- validation errors


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


def measure(base: FaqBase, items: list[tuple[str, str | None]]) -> dict[str, float]:
    on = [(q, i) for q, i in items if i]
    off = [q for q, i in items if not i]
    matches = [(base.match(q), i) for q, i in on]
    return {
        "on_topic": len(on),
        "off_topic": len(off),
        "top1": sum(m.best_id == i for m, i in matches) / len(on),
        "answered_right": sum(m.status == "answer" and m.entry_id == i for m, i in matches) / len(on),
        "answered_wrong": sum(m.status == "answer" and m.entry_id != i for m, i in matches) / len(on),
        "off_topic_answered": sum(base.match(q).status == "answer" for q in off) / len(off),
    }


def report(name: str, figures: dict[str, float]) -> None:
    print(
        f"\nFAQ {name}: {figures['on_topic']} on-topic, {figures['off_topic']} off-topic; "
        f"top-1 {figures['top1']:.1%}; answered right {figures['answered_right']:.1%}, "
        f"answered wrong {figures['answered_wrong']:.1%}; "
        f"off-topic answered confidently {figures['off_topic_answered']:.1%}"
    )


def test_labelled_set_is_big_and_varied_enough(labelled):
    """The development set has at least 200 questions, 50 of them off-topic."""
    dev = labelled["dev"]
    assert len(dev) >= 200
    assert sum(1 for _, i in dev if i is None) >= 50


def test_labelled_ids_exist(base, labelled):
    """Every expected id in the labelled set is a real entry."""
    ids = {entry_id for entry_id, _ in base.topics()}
    assert {i for items in labelled.values() for _, i in items if i} <= ids


def test_blind_ids_exist(base, blind):
    """Every expected id in the blind set is a real entry."""
    ids = {entry_id for entry_id, _ in base.topics()}
    assert {i for _, i in blind if i} <= ids


def test_blind_set_is_big_enough(blind):
    """The blind set has at least 252 on-topic questions (nine per entry) and 70 off-topic ones."""
    assert sum(1 for _, i in blind if i) >= 252
    assert sum(1 for _, i in blind if not i) >= 70


def test_accuracy_targets_on_the_blind_set(base, blind):
    """On questions written without seeing the entries or the matcher, the best match is right for at
    least 90% of on-topic ones, and at most 5% of off-topic ones get a confident (wrong) answer.
    """
    figures = measure(base, blind)
    report("blind set", figures)
    for question, expected in blind:
        found = base.match(question)
        if expected and found.best_id != expected:
            print(f"  miss: {question!r}: expected {expected}, got {found.best_id} ({found.status}, "
                  f"{found.confidence})")
        elif not expected and found.status == "answer":
            print(f"  off-topic answered: {question!r}: {found.entry_id} ({found.confidence})")
    assert figures["top1"] >= 0.90
    assert figures["off_topic_answered"] <= 0.05


def test_most_blind_on_topic_questions_get_a_confident_answer(base, blind):
    """The matcher does not buy its off-topic safety by never answering: most on-topic get answers."""
    assert measure(base, blind)["answered_right"] >= 0.6


def test_dev_figures(base, labelled):
    """The development set, which the matcher was tuned on (the first two blind sets included): its
    figures flatter the matcher, so they must stay well above the targets, which are for unseen questions.
    """
    figures = measure(base, labelled["dev"])
    report("dev set (tuned on)", figures)
    assert figures["top1"] >= 0.97
    assert figures["answered_right"] >= 0.6
    assert figures["off_topic_answered"] <= 0.01


def one_typo(question: str, rng: random.Random) -> str:
    """The question with one slip in one word of four letters or more: two letters swapped, one left
    out, one added or one changed."""
    words = question.split()
    candidates = [n for n, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    if not candidates:
        return question
    n = rng.choice(candidates)
    word, at, letter = words[n], rng.randrange(1, len(words[n]) - 1), rng.choice("abcdefghijklmnopqrstuvwxyz")
    words[n] = [
        word[:at] + word[at + 1] + word[at] + word[at + 2:],
        word[:at] + word[at + 1:],
        word[:at] + letter + word[at:],
        word[:at] + letter + word[at + 1:],
    ][rng.randrange(4)]
    return " ".join(words)


def shuffled(question: str, rng: random.Random) -> str:
    words = question.split()
    rng.shuffle(words)
    return " ".join(words)


@pytest.mark.parametrize(("change", "floor"), [(one_typo, 0.93), (shuffled, 0.87)])
def test_dev_variants_stay_matched(base, labelled, change, floor):
    """Dev questions with one typo added, or their words shuffled, still find their entry: the floors sit
    just under the figures when they were set (top-1 94.2% with a typo, 87.6% shuffled) and above those
    of the matcher before (90.8%, 86.4%). Off-topic variants stay unanswered too.
    """
    tops, offs = [], []
    for seed in range(3):
        rng = random.Random(seed)
        items = [(change(q, rng), i) for q, i in labelled["dev"]]
        figures = measure(base, items)
        tops.append(figures["top1"])
        offs.append(figures["off_topic_answered"])
    print(f"\nFAQ dev, {change.__name__}: top-1 {[f'{x:.1%}' for x in tops]}, off-topic answered "
          f"{[f'{x:.1%}' for x in offs]}")
    assert sum(tops) / len(tops) >= floor
    assert max(offs) <= 0.02


@pytest.mark.parametrize("question", [
    "how often should i run intervals",  # a frame and running words
    "how long should a taper be",
    "what pace should a beginner run",  # a level word
    "how hard should my tempo run feel",
    "missed three runs this week because of work",  # running, for an entry about strength work
    "can i run with a sore knee",
    "how do i do a pull up",  # a tag that was an idiom ("pulling something")
])
def test_running_questions_with_a_frame_are_not_answered(base, question):
    """A question frame ("how often", "how long"), a level word or a word an entry is about, with only
    running around it, is a question about running: no confident answer.
    """
    assert base.match(question).status != "answer"


@pytest.mark.parametrize(("question", "expected"), [
    ("how often should runners lift", "how-often"),
    ("how long should a squat workout take", "session-length"),
    ("beginner or advanced", "which-level"),
    ("am i a beginner at lifting", "which-level"),
    ("how hard should my squat sets be", "effort"),
    ("can i squat the day before a race", "scheduling"),
    ("is yoga good for runners", "mobility"),
    ("how often shuld i lift", "how-often"),  # a misspelt filler word
])
def test_frames_about_strength_work_are_answered(base, question, expected):
    """The same frames are answered once the question names strength work or the entry's subject."""
    found = base.match(question)
    assert (found.status, found.entry_id) == ("answer", expected)


@pytest.mark.parametrize(("question", "expected"), [
    # a rare subject word outweighs a question frame ("three times a week")
    ("do i need to eat more protein now that i squat three times a week", "nutrition"),
    # a race on a given day, or the last weeks before one, is race week; every distance is a race
    ("is it ok to do squats on thursday if my 10k is on sunday", "race-week"),
    ("should i stop lifting in the final week before my half", "race-week"),
    ("will deadlifts help me run a faster 5k time", "faster"),
    ("does strength work help my marathon time or just prevent injuries", "faster"),
    # soreness or an injury; an injury, a knee or a shin is the subject, not running talk
    ("knee feels sore after lunges, is it an injury or just doms", "soreness-vs-pain"),
    ("can i keep squatting while my achilles is injured", "niggles"),
    ("coming back from a calf strain, which leg exercises are ok", "niggles"),
    # over time, spent, ramping mileage, a choice of days, one run then the lift
    ("how do i keep my squats getting heavier over time", "progression"),
    ("should i be completely gassed at the end of every set", "effort"),
    ("mileage is ramping up for my ultra, what about the gym", "mileage-jumps"),
    ("do lifting sessions go on run days or rest days", "scheduling"),
    ("long run then gym or gym then long run on saturday", "same-day-order"),
])
def test_subject_words_outweigh_frames_and_context(base, question, expected):
    """The words that carry a question's topic decide its entry, not the frame or running talk around
    them.
    """
    found = base.match(question)
    assert (found.status, found.entry_id) == ("answer", expected)


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
    found = base.match("should I lift before my long run?")
    assert found.status == "answer" and found.entry_id == "scheduling"
    assert 0 < len(found.alternatives) <= 3 and "scheduling" not in found.alternatives
    assert 0.0 <= found.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "?!?", "a" * 5000, "<@123> @everyone", "\u0000\u202e"])
def test_odd_input_never_crashes(base, text):
    """Empty, punctuation-only, huge and control-character questions give a reply, not an error."""
    reply = base.answer(text)
    assert reply.text and len(reply.text) <= CONTENT_LIMIT


def test_huge_question_is_capped(base):
    """Only the first characters of a very long question are matched."""
    padded = "will squats make me bulky?" + "!" * MAX_QUESTION_CHARS + " weather watch shoes tomorrow"
    assert base.match(padded) == base.match("will squats make me bulky?")


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
    code = main(["faq", "should I lift before my long run?", "--mileage", "30mi", "--level", "beginner",
                 "--goal", "speed", "--long-run", "sun"])
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
