"""A hostile moderator's corpus: rule conditions and FAQ answers built to hang, bloat, escape or confuse.

Each group aims at one weakness (size, depth, repetition, numeric precision, string growth, comprehension
macros, unicode, escapes, and the attacks reported against the old Jinja sandbox). tests/test_hostile.py runs
every item through the moderator's save path and then, when it was accepted, through plans and answers for
profiles chosen to trigger it.
"""

from __future__ import annotations

from typing import Any

_TEN = "[" + ", ".join(["0"] * 10) + "]"
_THIRTY = "[" + ", ".join(["1"] * 30) + "]"
_WORDS = "[" + ", ".join(f"'{w * 8}'" for w in "abcdefghijklmnop") + "]"


def _nested_maps(levels: int, items: str = _TEN, body: str = "1") -> str:
    text = body
    for depth in range(levels):
        text = f"{items}.map(v{depth}, {text})"
    return text


def _conditions() -> list[str]:
    out: list[str] = []
    # Size: long expressions, at and past the length limit, and big literals.
    out += ["true && " * n + "true" for n in (10, 30, 61, 62, 70, 200)]
    out += [f"size([{', '.join(['1'] * n)}]) > 0" for n in (50, 150, 165, 300)]
    out += [f"'{'x' * n}' != ''" for n in (100, 490, 495, 600, 5000)]
    out += ["weekly_km > 1.0 || " * n + "false" for n in (5, 20, 25, 40)]
    # Depth: brackets, unary runs, nested lists and ternaries.
    out += ["(" * n + "true" + ")" * n for n in (3, 8, 11, 12, 13, 40, 200)]
    out += ["!" * n + "true" for n in (2, 11, 12, 13, 100)]
    out += ["-" * n + "1 < 0" for n in (1, 11, 13, 300)]
    out += ["[" * n + "1" + "]" * n + " != []" for n in (2, 3, 4, 10, 30)]
    out += ["true ? " * n + "true" + " : false" * n for n in (3, 10, 30)]
    out += ["size(" * n + "niggles" + ")" * n + " > 0" for n in (2, 12, 30)]
    # Repetition: the same value concatenated, lists added to themselves.
    out += ["size(" + " + ".join(["niggles"] * n) + ") >= 0" for n in (2, 10, 50, 80)]
    out += ["size(" + " + ".join(["'xxxxxxxxxx'"] * n) + ") > 0" for n in (5, 30, 40)]
    out += ["size(" + " + ".join([_THIRTY] * n) + ") > 0" for n in (2, 4, 5)]
    out += ["size(" + " + ".join(["goals"] * n) + ") > 3" for n in (20, 60)]
    # Numeric precision: overflow, huge literals, division by zero, infinities, NaN.
    out += ["9" * n + " > 1" for n in (18, 19, 20, 50, 400)]
    out += ["9223372036854775807 + 1 > 0", "-9223372036854775807 - 2 < 0", "9223372036854775807 * 2 > 0",
            "1 / 0 == 0", "1 % 0 == 0", "1.0 / 0.0 > 0.0", "0.0 / 0.0 == 0.0", "1e308 * 1e308 > 0.0",
            "1e999 > 0.0", "-1e999 < 0.0", "int(1e300) > 0", "int('9' + '9') > 0",
            "int('" + "9" * 400 + "') > 0", "double('1e999') > 0.0", "0x7fffffffffffffff + 1 > 0",
            "0xffffffffffffffffff > 0", "1u > 0u", "18446744073709551615u + 1u > 0u", "weekly_km / 0.0 > 1.0",
            "weekly_km * 1e308 * 1e308 > 1.0", "days_per_week != null && 1 / (days_per_week - 3) > 0",
            "days_to_race != null && 100 / (days_to_race - 27) > 1", "weekly_km == 40",
            "weekly_km - weekly_km == 0.0", "int(weekly_km) * 9223372036854775807 > 0",
            "1" + "0" * 18 + " * 10 > 0", "double(9223372036854775807) > 0.0", "-(-9223372036854775807 - 1) > 0",
            "1.7976931348623157e308 + 1.7976931348623157e308 > 0.0", "weekly_km > 1.0e-400"]
    # String growth: concatenation inside macros, long texts, conversions.
    out += [f"size({_nested_maps(n, _TEN, repr('x' * 50))}) > 0" for n in (1, 2, 3)]
    out += [f"{_WORDS}.map(a, {_WORDS}.map(b, a + b + a + b)) != []",
            f"{_WORDS}.exists(a, {_WORDS}.exists(b, {_WORDS}.exists(c, (a + b + c).startsWith('zz'))))",
            f"size({_WORDS}.map(a, {_WORDS}.map(b, {_WORDS}.map(c, a + b + c)))) > 0",
            "size(string(weekly_km) + string(weekly_km) + string(weekly_km)) > 0",
            "string(niggles) != ''", "level + level + level + level == ''",
            "('" + "ab" * 200 + "').contains('" + "ab" * 30 + "c')",
            "('" + "a" * 400 + "').startsWith('" + "a" * 80 + "')",
            "niggles.map(n, n + n + n + n + n + n + n + n) != []",
            "goals.map(g, goals.map(h, g + h + g + h)) != []"]
    # Comprehension macros: nested, over literals and over the profile's lists.
    out += [_nested_maps(n) + " != []" for n in (1, 2, 3, 4, 5, 6, 8)]
    out += [_nested_maps(n, _THIRTY) + " != []" for n in (2, 3, 4)]
    out += [f"{_TEN}.all(a, {_TEN}.all(b, {_TEN}.all(c, {_TEN}.all(d, a == b))))",
            f"{_THIRTY}.exists(a, {_THIRTY}.exists(b, {_THIRTY}.exists(c, {_THIRTY}.exists(d, a + b + c + d < 0))))",
            f"{_THIRTY}.exists_one(a, {_THIRTY}.exists_one(b, {_THIRTY}.exists_one(c, a == c)))",
            f"size({_THIRTY}.filter(a, {_THIRTY}.filter(b, {_THIRTY}.filter(c, true) != []) != [])) > 0",
            "niggles.all(n, hard_days.all(d, goals.all(g, equipment.all(e, n != d))))",
            "niggles.exists(n, niggles.exists(m, niggles.exists(o, niggles.exists(p, n + m + o + p == ''))))",
            "hard_days.map(d, hard_days.map(e, hard_days.map(f, d + e + f))) != []",
            "niggles.exists(niggles, true)", "goals.exists(g, g == 'sped')", "goals.exists(g, g)",
            "goals.map(g, 1) == [1]", "niggles.filter(n, n == 'knee') == ['knee']", "goals.exists(g)",
            "goals.exists(1, true)", "weekly_km.exists(x, true)", "[].exists(x, x)", "[[]].map(x, x) == [[]]",
            "niggles.exists_one(n, n == 'achilles')", "size(niggles.map(n, niggles)) > 2",
            f"size({_THIRTY}.map(a, {_THIRTY}.map(b, niggles))) > 0",
            f"size({_THIRTY}.map(a, {_THIRTY}.map(b, {_THIRTY}))) > 0"]
    # Unicode: look-alike names, direction overrides, invisible characters, odd escapes.
    out += ["ｗeekly_km > 10.0", "weekly_km\u202e > 10.0", "weekly\u200b_km > 10.0", "lеvel == 'beginner'",
            "'🏃' in goals", "level == 'b\u0301eginner'", "'\u0000' in niggles", "'\\x00' == ''",
            "'\\ud800' == ''", "'\\U0010ffff' != ''", "'\\777' != ''", "'\\q' == ''", "level == 'ǅ'",
            "'" + "\u0301" * 400 + "' != ''", "'" + "💥" * 200 + "' != ''", "size('" + "a\u0308" * 100 + "') > 0",
            "goals.exists(ɡ, ɡ == 'speed')", "\ufeffweekly_km > 1.0", "weekly_km > 1.0 \u2028 && true",
            "level == \"intermediate\u00a0\""]
    # Escapes: Python internals, functions and types CEL offers, the old Jinja attacks.
    out += ["level.__class__", "goals.__len__() > 0", "level.upper() == ''", "type(level) == string",
            "dyn(level) == 'x'", "has(level.x)", "level.size() > 0", "'aaaa'.matches('(a+)+$')",
            "timestamp('2026-01-01T00:00:00Z') > timestamp('2025-01-01T00:00:00Z')", "duration('1h') > duration('1m')",
            "google.protobuf.Value{} == null", "{1: 2}[1] == 2", "{'a': level}.a == ''", "b'abc' == b'abc'",
            "__import__('os')", "level['__class__']", "goals[0] == 'speed'", "goals[99] == 'speed'",
            "goals[-1] == 'x'", "niggles[0] == 'knee'", "1|round(0-10**9)", "[[[0]*9999]*9999]*9999",
            "'x' * 10**10 != ''", "range(10**9)", "lipsum.__globals__", "cycler.__init__.__globals__",
            "'{0.__class__}'.format(level)", "'%999999999s' % 1", "((((2**64)**64)**64)**64)**64 > 0",
            "self", "goals|map('upper')|list", "weekly_km > 1 and weekly_km < 50", "not sharp_pain",
            "niggles | length >= 3", "days_to_race < 10", "long_run_day == 'funday'", "level == 'pro'",
            "'box' in niggles", "weekly_kms > 10.0", "sharp_pain && pain", "1", "'true'", "null",
            "weekly_km", "goals", "", "   ", "// only a comment", "true // trailing comment",
            "true; false", "true && (false", "'unclosed", "a.b.c.d.e.f", ".level == 'x'"]
    return out


HOSTILE_CONDITIONS: list[str] = _conditions()


def _answers() -> list[tuple[str, list[dict[str, str]]]]:
    plain = "Strength work helps most runners."
    out: list[tuple[str, list[dict[str, str]]]] = []
    # Size: at and past the limits, many placeholders, the longest values.
    out += [("x" * n, []) for n in (1, 1699, 1700, 1701, 4000, 4001)]
    out += [(plain + " " + "word " * n, []) for n in (300, 340, 800)]
    out += [(plain, [{"when": "has_profile", "text": "{niggles} " * n}]) for n in (10, 14, 40, 41, 400)]
    out += [(plain, [{"when": "has_profile", "text": "{hard_days_names} " * n}]) for n in (5, 20, 40)]
    out += [(plain, [{"when": "true", "text": plain}] * n) for n in (8, 9, 100)]
    out += [(plain, [{"when": "has_profile", "text": "x" * 1650 + "{niggles}{niggles}"}])]
    # Depth: braces nested and unbalanced.
    out += [("{" * n + "level" + "}" * n, []) for n in (1, 2, 3, 4, 50)]
    out += [(plain + " {", []), (plain + " }", []), (plain + " {{", []), ("{}", []), ("{ }", []),
            (plain + " {{level}}", []), (plain + " {{{{level}}}}", []), ("}{", []), ("{{}}" * 400, [])]
    # Repetition: placeholders and variants over and over.
    out += [(plain, [{"when": "has_profile", "text": "{level}" * n}]) for n in (40, 41, 1000)]
    out += [(plain, [{"when": f"has_profile && size(niggles) > {k}", "text": f"{k} {{niggles}}"} for k in range(8)])]
    # Numeric precision and format-string tricks inside placeholders.
    out += [(plain, [{"when": "has_profile", "text": text}]) for text in (
        "{weekly_km:.1000000f}", "{weekly_km!r}", "{weekly_km:>999999999}", "{0}", "{}", "{1e308}",
        "{weekly_km.real}", "{level.__class__}", "{level[0]}", "{level.__class__.__mro__}", "{mileage:%}",
        "{weekly_km * 10**9}", "{-1}", "{9999999999999999999999}")]
    out += [(plain, [{"when": cond, "text": plain + " {level}"}]) for cond in (
        "has_profile && weekly_km > 1e308", "has_profile && weekly_km / 0.0 > 1.0",
        "has_profile && 9223372036854775807 + 1 > 0", "has_profile && int(weekly_km) / 0 > 1",
        "has_profile && weekly_km == 20", "has_profile && weekly_km == 20.0", "has_profile && days_per_week / 0 > 0")]
    # String growth and comprehension macros in variant conditions.
    out += [(plain, [{"when": f"has_profile && {cond}", "text": plain + " {level}"}]) for cond in (
        _nested_maps(3) + " != []", _nested_maps(5) + " != []", _nested_maps(2, _THIRTY) + " != []",
        f"{_WORDS}.exists(a, {_WORDS}.exists(b, {_WORDS}.exists(c, (a + b + c).startsWith('zz'))))",
        f"{_THIRTY}.exists(a, {_THIRTY}.exists(b, {_THIRTY}.exists(c, {_THIRTY}.exists(d, a + b + c + d < 0))))",
        "niggles.all(n, hard_days.all(d, goals.all(g, n != d)))", "size(" + " + ".join(["niggles"] * 60) + ") > 0",
        "goals.map(g, goals.map(h, g + h + g + h)) != []", "niggles.exists(n, n == 'knees')", "level == 'pro'",
        "'x' * 10**10 != ''", "level.__class__ == ''")]
    # Unicode and invisible characters, in text and in placeholder names.
    out += [(text, []) for text in (
        "Zalgo h\u0336\u0337\u0338e\u0336\u0337 comes " * 20, "\u202eReversed direction text\u202c", "🏃" * 500,
        "🏃" * 1701, "\u200b" * 100, "\u0000 null byte", "Line\u2028separator\u2029paragraph", "\ufeffBOM first",
        "Ｆｕｌｌｗｉｄｔｈ answer", "a\u0308" * 900)]
    out += [(plain, [{"when": "has_profile", "text": text}]) for text in (
        "{le\u200bvel}", "{ｌevel}", "{lеvel}", "{level\u202e}", "{ level }", "{LEVEL}", "{mileage }")]
    # Old Jinja templates and escapes: refused, or shown as plain text.
    out += [(text, []) for text in (
        "{{ 'x' * 10**10 }}", "{% for i in range(10**9) %}x{% endfor %}", "{{ lipsum(10**6) }}",
        "{{ cycler(1, 2).__init__.__globals__ }}", "{% set ns = namespace(a=1) %}{{ ns.a }}",
        "{{ level.__class__.__mro__ }}", "{{ level|attr('__class__') }}", "{{ '%999999999s'|format(1) }}",
        "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", "{# a comment #}" + plain,
        "{{ 1|round(0-10**9) }}", "{{ [[[0]*9999]*9999]*9999 }}", "{% include 'overview.md.j2' %}",
        "{{self}}", "{{ config }}", "{%raw%}{{ x }}{%endraw%}")]
    # Discord formatting: mentions and masked links are made inert.
    out += [(text, []) for text in (
        "@everyone read this", "<@&123456789012345678> and <@123456789012345678>", "[click here](https://x.example/a)",
        "[a](https://x.example/1) [b](<https://x.example/2>) [c]( https://x.example/3 )", "[" * 300 + "](" * 300,
        "[nested [link]](https://x.example)", "||spoiler|| **bold** `code` > quote")]
    return out


HOSTILE_ANSWERS: list[tuple[str, list[dict[str, str]]]] = _answers()


def entry_yaml(answer: str, variants: list[dict[str, str]]) -> str:
    """A moderator's FAQ entry holding the hostile answer, as the YAML they would paste."""
    import yaml

    data: dict[str, Any] = {"id": "hostile-entry", "question": "What does this hostile entry do?",
                            "phrasings": ["hostile entry"], "answer": answer}
    if variants:
        data["variants"] = variants
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def rule_yaml(condition: str) -> str:
    """A moderator's rule whose condition is the hostile one, as the YAML they would paste."""
    import yaml

    return yaml.safe_dump({"id": "hostile", "description": "A rule a moderator should not be able to abuse.",
                           "when": condition, "then": [{"note": "hostile rule fired"}]},
                          allow_unicode=True, sort_keys=False, width=10_000)
