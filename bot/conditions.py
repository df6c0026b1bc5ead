"""Conditions in CEL (Common Expression Language): typed checks at save time, bounded evaluation, migration.

Rule `when:` lines and FAQ answer variants are CEL expressions, evaluated by cel-python (`celpy`). CEL has
no loops, no recursion and no way to define functions, so the cost of an expression grows with its size
and its input; on top of that every evaluation runs under a `Budget` that the evaluator itself enforces:
at most MAX_STEPS visits of the syntax tree, MAX_CELLS characters and list items built, and
EVAL_SECONDS of the evaluating thread's CPU time (not wall time: a busy machine must not make a good
expression fail). celpy is pure Python, so the checks happen between any two steps and a
hostile expression is stopped, never left holding the interpreter inside one long native call.

Before an expression is stored, `check` parses it, types it against the documented variables (unknown
names get a did-you-mean, `weekly_km > 'x'` is a type error, `'sped' in goals` can never match), and
trial-runs it on sample profiles, the largest allowed one included, so a condition that would fail or
blow its budget is refused when saved rather than skipped when used.

`jinja_to_cel` converts the Jinja expressions LegDay used before (files and stored server overrides).
"""

from __future__ import annotations

import difflib
import logging
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import celpy
import celpy.celparser
import celpy.evaluation
import lark
from celpy import celtypes

from bot.errors import LegDayError

# celpy logs the values it evaluates at DEBUG (profile details) and at ERROR; none of it belongs in our log.
logging.getLogger("celpy").setLevel(logging.CRITICAL)

MAX_EXPRESSION = 500  # characters in one condition
MAX_DEPTH = 12  # brackets and unary operators nested in one condition (the parser recurses)
MAX_STEPS = 2_000  # tree visits in one evaluation (the shipped conditions need under 40)
MAX_CELLS = 20_000  # characters and list items one evaluation may build, all values together
EVAL_SECONDS = 0.025  # CPU time of one evaluation: a backstop, as the step budget is spent first
MAX_TYPE_DEPTH = 2  # lists of lists at most
_CACHE = 4096  # memoised results per condition


class ConditionError(LegDayError):
    """A condition that can't be evaluated: a type or value error, or a spent budget."""


class OverBudget(ConditionError):
    """An evaluation used up its step, size or time budget; it was stopped."""


class MigrationError(LegDayError):
    """A Jinja expression with no CEL equivalent; the message says which part."""


# ------------------------------------------------------------------------------------------
# Types of the values a condition sees


@dataclass(frozen=True)
class CelType:
    """A static type: a kind (bool, int, double, string, null, list, dyn), its element, and its values."""

    kind: str
    elem: CelType | None = None
    vocabulary: frozenset[str] | None = None  # the only strings it (or its elements) can be
    nullable: bool = False

    def __str__(self) -> str:
        text = f"list of {self.elem}" if self.kind == "list" and self.elem else self.kind
        return text + (" or null" if self.nullable else "")

    @property
    def depth(self) -> int:
        """How deeply lists nest in the type: 0 for a scalar, 1 for a list of scalars."""
        return 1 + self.elem.depth if self.kind == "list" and self.elem else 0


BOOL, INT, DOUBLE, STRING, NULL, DYN = (CelType(k) for k in ("bool", "int", "double", "string", "null", "dyn"))
_NUMBERS = {"int", "double"}


def list_of(elem: CelType) -> CelType:
    """The type of a list whose items are `elem`."""
    return CelType("list", elem)


def strings(values: Iterable[str], nullable: bool = False) -> CelType:
    """A string that is always one of `values` (or null)."""
    return CelType("string", vocabulary=frozenset(values), nullable=nullable)


@dataclass(frozen=True)
class Variable:
    """One documented variable a condition may use: its type and a description."""

    type: CelType
    description: str


# ------------------------------------------------------------------------------------------
# The budget and the budgeted evaluator


@dataclass
class Budget:
    """What one evaluation may still spend; `spend` raises OverBudget when any part runs out."""

    steps: int = MAX_STEPS
    cells: int = MAX_CELLS
    seconds: float = EVAL_SECONDS
    deadline: float = field(default=0.0)
    used_steps: int = 0
    used_cells: int = 0

    def start(self) -> Budget:
        """Start the clock: the deadline is `seconds` of this thread's CPU time from now; returns the budget."""
        self.deadline = time.thread_time() + self.seconds
        return self

    def step(self) -> None:
        """Charge one tree visit; OverBudget past the step limit or (checked every 64 steps) the deadline."""
        self.used_steps += 1
        if self.used_steps > self.steps:
            raise OverBudget(f"it needs more than {self.steps:,} steps to work out")
        if not self.used_steps % 64 and time.thread_time() > self.deadline:
            raise OverBudget(f"it takes longer than {self.seconds * 1000:.0f} ms to work out")

    def built(self, value: Any) -> None:
        """Charge a built string's characters or a container's items; OverBudget past the cell limit."""
        if isinstance(value, str | bytes | list | tuple | dict):
            self.used_cells += len(value)
            if self.used_cells > self.cells:
                raise OverBudget(f"it builds more than {self.cells:,} characters or list items")


class _BudgetedEvaluator(celpy.evaluation.Evaluator):
    """celpy's tree-walking evaluator, charging every visit and every value built to one Budget."""

    def __init__(self, ast: lark.Tree, activation: celpy.evaluation.Activation, budget: Budget) -> None:
        super().__init__(ast, activation)
        self.budget = budget

    def _visit_tree(self, tree: lark.Tree) -> Any:
        self.budget.step()
        value = super()._visit_tree(tree)
        self.budget.built(value)
        return value

    def sub_evaluator(self, ast: lark.Tree) -> _BudgetedEvaluator:
        return _BudgetedEvaluator(ast, self.activation, self.budget)


def _null_equality(name: str, equal: bool) -> Callable[[Any, Any], Any]:
    """`==`/`!=` that compare anything with null (CEL's heterogeneous equality; celpy raises for `3 != null`)."""
    base = celpy.evaluation.base_functions[name]

    def compare(left: Any, right: Any) -> Any:
        if left is None or right is None:
            return celtypes.BoolType((left is None and right is None) == equal)
        return base(left, right)
    return compare


_OPERATORS = {"_==_": _null_equality("_==_", True), "_!=_": _null_equality("_!=_", False)}


def _activation() -> celpy.evaluation.Activation:
    return celpy.evaluation.Activation(package=None, annotations=None, functions=_OPERATORS)


_FUNCTIONS = {"size", "int", "double", "string"}
_METHODS = {"size": 0, "startsWith": 1, "endsWith": 1, "contains": 1}
_MACROS = {"all", "exists", "exists_one", "map", "filter"}
_ENV = celpy.Environment()


def _to_cel(value: Any) -> Any:
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, list | tuple):
        return celtypes.ListType([_to_cel(item) for item in value])
    return value  # None


def _from_cel(value: Any) -> Any:
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, list):
        return [_from_cel(item) for item in value]
    return value


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_INT64 = (-(2**63), 2**63 - 1)  # celpy refuses ints outside these, so such a value is its own memo key


def _band(value: Any, points: tuple[float, ...]) -> Any:
    """A number's memo key for a condition that only compares it with `points`: its place among them.

    celpy's comparisons of an int or a double with an int or double literal either agree with Python's
    (so two values with the same place give the same result) or fail the same way for every value of that
    type (an int literal against a double), so the key keeps the type too. Anything else keys on itself.
    """
    kind = type(value)
    if (kind is float and value == value) or (kind is int and _INT64[0] <= value <= _INT64[1]):
        return kind, bisect_left(points, value), bisect_right(points, value)
    return value if value is None else ("=", _freeze(value))


def _number_literal(tree: Any) -> float | None:
    """The value of an int or double literal (sole content of `tree`), else None."""
    while isinstance(tree, lark.Tree) and tree.data in _PASS_THROUGH and len(tree.children) == 1:
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "literal" and tree.children[0].type in ("INT_LIT", "FLOAT_LIT"):
        try:
            value = celpy.evaluation.Evaluator(tree, celpy.evaluation.Activation()).literal(tree)
        except Exception:  # a literal celpy can't read: leave the name keyed on its value
            return None
        return int(value) if isinstance(value, int) else float(value)
    return None


def _size_of(tree: Any) -> str | None:
    """The variable name when `tree` is nothing but `size(name)`."""
    while isinstance(tree, lark.Tree) and tree.data in _PASS_THROUGH and len(tree.children) == 1:
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "ident_arg" and len(tree.children) == 2 \
            and str(tree.children[0]) == "size" and isinstance(tree.children[1], lark.Tree) \
            and len(tree.children[1].children) == 1:
        return _sole_ident(tree.children[1].children[0])
    return None


_STR = {str}


@dataclass(frozen=True)
class KeySpec:
    """How a condition's memo keys one variable: by the only things the condition reads of it.

    `points`: the number literals it is compared with (its place among them decides, not its value);
    `members`: the string literals tested with `'x' in name` and `sizes`: the numbers `size(name)` is
    compared with (for a list of strings, which of those it holds and its length's place decide).
    """

    points: tuple[float, ...] | None = None
    members: tuple[str, ...] | None = None
    sizes: tuple[float, ...] | None = None

    def key(self, value: Any) -> Any:
        """The memo key of `value` under this spec; a value of any other type keys on itself."""
        if self.points is not None:
            return _band(value, self.points)
        if type(value) in (list, tuple) and set(map(type, value)) <= _STR:
            return ("L", None if self.members is None else tuple([member in value for member in self.members]),
                    None if self.sizes is None else _band(len(value), self.sizes))
        return value if value is None else ("=", _freeze(value))


def _key_specs(ast: lark.Tree) -> dict[str, KeySpec]:
    """Names the condition reads only in these ways, each with what decides its result (see KeySpec).

    The ways: compared with number literals (`name < 30`; `== null` too); or tested `'x' in name` and compared
    `size(name) >= 3`. For such a name two values that agree on those points give the same result.
    """
    occurrences = Counter(str(node.children[0]) for node in ast.find_data("ident"))
    compared: Counter[str] = Counter()
    points: dict[str, set[float]] = {}
    listed: Counter[str] = Counter()
    members: dict[str, set[str]] = {}
    sizes: dict[str, set[float]] = {}
    for node in ast.find_data("relation"):
        if len(node.children) != 2 or not isinstance(node.children[0], lark.Tree):
            continue
        op = node.children[0].data
        left, right = node.children[0].children[0], node.children[1]
        if op == "relation_in":
            name, member = _sole_ident(right), _string_literal(left)
            if name is not None and member is not None and _literal_kind(left) == "STRING_LIT":
                members.setdefault(name, set()).add(member)
                listed[name] += 1
            continue
        for side, other in ((left, right), (right, left)):
            number = _number_literal(other)
            sized = _size_of(side)
            if sized is not None and number is not None:
                sizes.setdefault(sized, set()).add(number)
                listed[sized] += 1
                continue
            name = _sole_ident(side)
            if name is None:
                continue
            if number is not None:
                points.setdefault(name, set()).add(number)
            elif not (_literal_kind(other) == "NULL_LIT" and op in ("relation_eq", "relation_ne")):
                continue
            compared[name] += 1
    specs = {name: KeySpec(points=tuple(sorted(points.get(name, ())))) for name, count in compared.items()
             if count == occurrences[name]}
    for name, count in listed.items():
        if count == occurrences[name]:
            specs[name] = KeySpec(members=tuple(sorted(members[name])) if name in members else None,
                                  sizes=tuple(sorted(sizes[name])) if name in sizes else None)
    return specs


def _remember(memo: dict[tuple[Any, ...], bool], key: tuple[Any, ...], result: bool) -> bool:
    if len(memo) >= _CACHE:
        memo.clear()  # simpler than an LRU, and a full memo means the profiles vary widely anyway
    memo[key] = result
    return result


class Condition:
    """A checked CEL expression, ready to evaluate against a context; results are memoised."""

    def __init__(self, source: str, variables: Mapping[str, Variable]) -> None:
        problems = check(source, variables)
        if problems:
            raise ConditionError("; ".join(problems))
        self.source = source
        self._ast = _ENV.compile(source)
        self.names = tuple(sorted(_identifiers(self._ast) & set(variables)))
        # Memo keys: a number only compared with literals keys on its place among them (`weekly_km < 30`
        # gives one key below 30 and one above, not one per mileage), a list only tested for members and
        # size on those (`'knee' in niggles`: has it or not); any other value keys on itself.
        specs = _key_specs(self._ast)
        self.keys: tuple[tuple[str, KeySpec | None], ...] = tuple((name, specs.get(name)) for name in self.names)
        # Two memos: a quick one keyed on the lists themselves (a hit costs a tuple of each list), and behind
        # it, for a condition that reads lists only by members and size, one keyed on those (a miss there
        # is a celpy evaluation).
        self._quick_parts = tuple((name, spec.key if spec is not None and spec.points is not None else _freeze)
                                  for name, spec in self.keys)
        self._key_parts = tuple((name, _freeze if spec is None else spec.key) for name, spec in self.keys)
        self._reads_lists = any(spec is not None and spec.points is None for _, spec in self.keys)
        self._shared: dict[tuple[Any, ...], bool] = {}
        # Plain dict operations only (each atomic): plans and previews evaluate from several threads.
        self._memo: dict[tuple[Any, ...], bool] = {}
        self._activation = _activation()

    def __call__(self, context: Mapping[str, Any]) -> bool:
        """True or False for this context; ConditionError (or OverBudget) when it can't be worked out."""
        key = tuple([part(context.get(name)) for name, part in self._quick_parts])
        known = self._memo.get(key)
        if known is not None:
            return known
        if self._reads_lists:
            shared = tuple([part(context.get(name)) for name, part in self._key_parts])
            result = self._shared.get(shared)
            if result is None:
                result = _remember(self._shared, shared, self.evaluate(context))
        else:
            result = self.evaluate(context)
        return _remember(self._memo, key, result)

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """Like calling the condition, but always evaluated by celpy (never from the memo)."""
        result = evaluate_ast(self._ast, {name: context.get(name) for name in self.names}, self._activation)
        if not isinstance(result, bool):
            raise ConditionError(f"it gives {type(result).__name__}, not true or false")
        return result


def evaluate_ast(ast: lark.Tree, values: Mapping[str, Any], activation: celpy.evaluation.Activation | None = None,
                 budget: Budget | None = None) -> Any:
    """Evaluate a parsed expression under a budget; plain Python values in and out."""
    budget = (budget or Budget()).start()
    base = activation or _activation()
    evaluator = _BudgetedEvaluator(ast, base, budget)
    try:
        value = evaluator.evaluate({name: _to_cel(v) for name, v in values.items()})
    except OverBudget:
        raise
    except celpy.evaluation.CELEvalError as exc:
        raise ConditionError(_eval_message(exc)) from None
    except RecursionError:
        raise OverBudget("it nests too deeply to work out") from None
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError, AttributeError) as exc:
        raise ConditionError(f"it fails when worked out ({type(exc).__name__})") from None
    return _from_cel(value)


def _eval_message(exc: celpy.evaluation.CELEvalError) -> str:
    text = str(exc.args[0]) if exc.args else "error"
    if "NoneType" in text or "null" in text:
        return "it compares a value that is null for this runner (check `name != null && ...` first)"
    if "no matching overload" in text or "no such overload" in text:
        return "it mixes values of different types"
    if "divide by zero" in text:
        return "it divides by zero"
    if "overflow" in text:
        return "a number in it gets too large"
    return f"it fails when worked out: {text[:120]}"


# ------------------------------------------------------------------------------------------
# Checking an expression before it is stored


def _identifiers(ast: lark.Tree) -> set[str]:
    return {str(node.children[0]) for node in ast.find_data("ident")}


def _bracket_depth(expression: str) -> int:
    """How deep brackets and runs of unary operators go, counted without parsing (parsers recurse)."""
    depth = deepest = run = 0
    for char in expression:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        run = run + 1 if char in "-!" else (run if char.isspace() else 0)
        deepest = max(deepest, depth + run)
    return deepest


def parse(expression: str) -> lark.Tree:
    """Parse a CEL expression; ConditionError with the position when it isn't valid CEL."""
    if not isinstance(expression, str):
        raise ConditionError("a condition is text")
    if len(expression) > MAX_EXPRESSION:
        raise ConditionError(f"the condition is {len(expression)} characters long; keep it under {MAX_EXPRESSION}")
    depth = _bracket_depth(expression)
    if depth > MAX_DEPTH:
        raise ConditionError(f"the condition nests {depth} levels deep; keep it under {MAX_DEPTH}")
    if not expression.strip():
        raise ConditionError("the condition is empty; write `true` for a rule that always applies")
    try:
        return _ENV.compile(expression)
    except celpy.celparser.CELParseError as exc:
        where = f" at column {exc.column}" if getattr(exc, "column", None) else ""
        hint = _jinja_hint(expression)
        first = str(exc.args[0]).splitlines()[0] if exc.args else "syntax error"
        raise ConditionError(f"CEL syntax error{where}: {first[:120]}{hint}") from None
    except RecursionError:
        raise ConditionError("the condition is too complex to read; simplify it") from None


def _jinja_hint(expression: str) -> str:
    words = expression.replace("(", " ").replace(")", " ").split()
    if any(w in ("and", "or", "not", "is", "none", "|") for w in words) or "|" in expression:
        return (" (conditions are CEL now: write && for and, || for or, ! for not, == null for 'is none', "
                "size(x) for x | length)")
    return ""


def check(expression: str, variables: Mapping[str, Variable],
          samples: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """Everything wrong with a condition, found before it ever runs: syntax, names, types, values, cost."""
    try:
        ast = parse(expression)
    except ConditionError as exc:
        return [str(exc)]
    checker = _Checker(variables)
    try:
        result = checker.type_of(ast, {})
    except RecursionError:
        return ["the condition is too complex to check; simplify it"]
    problems = list(dict.fromkeys(checker.problems))
    if not problems and result.kind not in ("bool", "dyn"):
        problems.append(f"the condition must be true or false, but it gives {result}")
    if problems:
        return problems
    for values in samples:
        try:
            evaluate_ast(ast, values)
        except ConditionError as exc:
            return [f"the condition can't be worked out for a sample runner: {exc}"]
    return []


_PASS_THROUGH = {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication", "unary",
                 "member", "primary", "paren_expr"}
_RELATIONS = {"relation_lt": "<", "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
              "relation_eq": "==", "relation_ne": "!=", "relation_in": "in"}
_ARITHMETIC = {"addition_add": "+", "addition_sub": "-", "multiplication_mul": "*", "multiplication_div": "/",
               "multiplication_mod": "%"}


def _sole_ident(tree: Any) -> str | None:
    """The variable name when `tree` is nothing but one identifier."""
    while isinstance(tree, lark.Tree) and tree.data in _PASS_THROUGH and len(tree.children) == 1:
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "ident":
        return str(tree.children[0])
    return None


def _string_literal(tree: Any) -> str | None:
    while isinstance(tree, lark.Tree) and tree.data in _PASS_THROUGH and len(tree.children) == 1:
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "literal":
        token = tree.children[0]
        if token.type in ("STRING_LIT", "MLSTRING_LIT"):
            try:
                return str(celpy.evaluation.Evaluator(tree, celpy.evaluation.Activation()).literal(tree))
            except Exception:  # a literal celpy can't read is reported by the evaluator later
                return None
    return None


def _null_guard(tree: Any, negated: bool = False) -> set[str]:
    """Names that `tree` being true (false when `negated`) proves are not null: `x != null`, `x == null`."""
    while isinstance(tree, lark.Tree) and tree.data in _PASS_THROUGH and len(tree.children) == 1:
        tree = tree.children[0]
    if not isinstance(tree, lark.Tree):
        return set()
    if tree.data == "conditionaland" and len(tree.children) == 2 and not negated:
        return _null_guard(tree.children[0]) | _null_guard(tree.children[1])
    if tree.data == "conditionalor" and len(tree.children) == 2 and negated:
        return _null_guard(tree.children[0], True) | _null_guard(tree.children[1], True)
    if tree.data == "relation" and len(tree.children) == 2 and isinstance(tree.children[0], lark.Tree):
        op = tree.children[0].data
        left, right = tree.children[0].children[0], tree.children[1]
        names = {_sole_ident(left), _sole_ident(right)}
        is_null = {_literal_kind(left), _literal_kind(right)} & {"NULL_LIT"}
        if is_null and ((op == "relation_ne" and not negated) or (op == "relation_eq" and negated)):
            return {name for name in names if name}
    return set()


def _literal_kind(tree: Any) -> str | None:
    while isinstance(tree, lark.Tree) and tree.data in _PASS_THROUGH and len(tree.children) == 1:
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "literal":
        return tree.children[0].type
    return None


class _Checker:
    """Types a parsed expression against the variables, collecting problems in plain words."""

    def __init__(self, variables: Mapping[str, Variable]) -> None:
        self.variables = variables
        self.problems: list[str] = []

    def fail(self, message: str) -> CelType:
        self.problems.append(message)
        return DYN

    def type_of(self, tree: Any, scope: dict[str, CelType]) -> CelType:
        if not isinstance(tree, lark.Tree):
            return DYN
        data, kids = tree.data, tree.children
        if data in _PASS_THROUGH and len(kids) == 1:
            return self.type_of(kids[0], scope)
        method = getattr(self, "t_" + data, None)
        if method is None:
            return self.fail(f"'{data.replace('_', ' ')}' isn't available in conditions")
        result = method(kids, scope)
        if result.depth > MAX_TYPE_DEPTH:
            return self.fail("lists nested more than two deep aren't allowed in conditions")
        return result

    def t_expr(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        cond = self.type_of(kids[0], scope)
        self.want(cond, "bool", "the test before '?'")
        guarded = _null_guard(kids[0])
        then = self.type_of(kids[1], self.unnull(scope, guarded))
        other = self.type_of(kids[2], self.unnull(scope, _null_guard(kids[0], negated=True)))
        return then if then.kind == other.kind or other.kind == "null" else (
            other if then.kind == "null" else self.fail(f"the two sides of '? :' differ: {then} and {other}"))

    def t_conditionalor(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        left = self.type_of(kids[0], scope)
        right = self.type_of(kids[1], self.unnull(scope, _null_guard(kids[0], negated=True)))
        self.want(left, "bool", "each side of ||")
        self.want(right, "bool", "each side of ||")
        return BOOL

    def t_conditionaland(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        left = self.type_of(kids[0], scope)
        right = self.type_of(kids[1], self.unnull(scope, _null_guard(kids[0])))
        self.want(left, "bool", "each side of &&")
        self.want(right, "bool", "each side of &&")
        return BOOL

    def unnull(self, scope: dict[str, CelType], names: set[str]) -> dict[str, CelType]:
        if not names:
            return scope
        inner = dict(scope)
        for name in names:
            known = inner.get(name) or (self.variables[name].type if name in self.variables else None)
            if known is not None:
                inner[name] = CelType(known.kind, known.elem, known.vocabulary, nullable=False)
        return inner

    def want(self, found: CelType, kind: str, what: str) -> None:
        if found.kind not in (kind, "dyn"):
            self.problems.append(f"{what} must be {kind}, not {found}")
        elif found.nullable:
            self.problems.append(f"{what} can be null; check `!= null` first")

    def t_relation(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        op_tree, right_tree = kids
        op = _RELATIONS[op_tree.data]
        left_tree = op_tree.children[0]
        left, right = self.type_of(left_tree, scope), self.type_of(right_tree, scope)
        if op == "in":
            self.vocabulary_in(left_tree, left, right)
            if right.kind == "dyn":
                return BOOL
            if right.kind != "list":
                return self.fail(f"'in' needs a list on its right, not {right}")
            if right.elem and not self.comparable(left, right.elem, "=="):
                return self.fail(f"'in' compares {left} with items that are {right.elem}")
            return BOOL
        if op in ("==", "!=") and "null" in (left.kind, right.kind):
            return BOOL
        for side, name_tree, other_tree in ((left, left_tree, right_tree), (right, right_tree, left_tree)):
            if side.vocabulary and side.kind == "string":
                self.vocabulary_eq(_sole_ident(name_tree) or "that value", side, _string_literal(other_tree))
        if not self.comparable(left, right, op):
            hint = " (write whole numbers as 30.0 next to a distance)" if {left.kind, right.kind} == _NUMBERS else ""
            return self.fail(f"'{op}' can't compare {left} with {right}{hint}")
        if op not in ("==", "!=") and (left.nullable or right.nullable):
            name = _sole_ident(left_tree if left.nullable else right_tree) or "a value"
            return self.fail(f"{name} can be null; write `{name} != null && ...` before comparing it with '{op}'")
        return BOOL

    def comparable(self, left: CelType, right: CelType, op: str) -> bool:
        if "dyn" in (left.kind, right.kind):
            return True
        if op in ("==", "!="):
            return left.kind == right.kind
        if left.kind in _NUMBERS and right.kind in _NUMBERS:
            return True
        return left.kind == right.kind and left.kind in ("string", "int", "double")

    def vocabulary_eq(self, name: str, typed: CelType, value: str | None) -> None:
        if value is not None and typed.vocabulary is not None and value not in typed.vocabulary:
            close = difflib.get_close_matches(value, typed.vocabulary, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            self.problems.append(f"'{value}' is never a value of {name}, so this can never match.{hint} "
                                 f"Values: {', '.join(sorted(typed.vocabulary))}")

    def vocabulary_in(self, left_tree: Any, left: CelType, right: CelType) -> None:
        if right.kind == "list" and right.elem and right.elem.vocabulary is not None:
            self.vocabulary_eq(f"{self.describe(right)}", right.elem, _string_literal(left_tree))

    def describe(self, typed: CelType) -> str:
        for name, var in self.variables.items():
            if var.type == typed or (typed.kind == "list" and var.type.kind == "list" and var.type.elem == typed.elem):
                return name
        return "that list"

    def t_addition(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        return self.arithmetic(kids, scope)

    def t_multiplication(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        return self.arithmetic(kids, scope)

    def arithmetic(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        op_tree, right_tree = kids
        op = _ARITHMETIC[op_tree.data]
        left, right = self.type_of(op_tree.children[0], scope), self.type_of(right_tree, scope)
        if "dyn" in (left.kind, right.kind):
            return left if right.kind == "dyn" else right
        if left.nullable or right.nullable:
            return self.fail(f"'{op}' on a value that can be null; check `!= null` first")
        if left.kind != right.kind:
            return self.fail(f"'{op}' can't combine {left} with {right} (CEL doesn't convert: "
                             "use double(x) or int(x))")
        allowed = {"+": {"int", "double", "string", "list"}}.get(op, {"int", "double"} - ({"double"} if op == "%"
                                                                                          else set()))
        if left.kind not in allowed:
            return self.fail(f"'{op}' doesn't work on {left}")
        return CelType(left.kind, left.elem)

    def t_unary(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        op, operand = kids
        typed = self.type_of(operand, scope)
        if op.data == "unary_not":
            self.want(typed, "bool", "what follows !")
            return BOOL
        if typed.kind not in (*_NUMBERS, "dyn"):
            return self.fail(f"'-' needs a number, not {typed}")
        return typed

    def t_literal(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        kind = kids[0].type
        if kind == "INT_LIT":
            text = str(kids[0]).lower().lstrip("-")
            value = int(text, 16) if text.startswith("0x") else int(text)
            if value.bit_length() > 63:
                return self.fail("a whole number in the condition is too large")
            return INT
        if kind == "FLOAT_LIT":
            return DOUBLE
        if kind in ("STRING_LIT", "MLSTRING_LIT"):
            return STRING
        if kind == "BOOL_LIT":
            return BOOL
        if kind == "NULL_LIT":
            return NULL
        return self.fail(f"{kind.removesuffix('_LIT').lower()} values aren't available in conditions")

    def t_ident(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        name = str(kids[0])
        if name in scope:
            return scope[name]
        if name in self.variables:
            return self.variables[name].type
        known = list(self.variables)
        close = difflib.get_close_matches(name, known + list(scope), n=1)
        if name in ("none", "None"):
            close = ["null"]
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return self.fail(f"unknown name '{name[:40]}'.{hint} Known: {', '.join(known)}")

    def t_list_lit(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        items = kids[0].children if kids and isinstance(kids[0], lark.Tree) else []
        types = [self.type_of(item, scope) for item in items]
        kinds = {t.kind for t in types}
        if len(kinds) > 1:
            return self.fail(f"a list mixes {' and '.join(sorted(kinds))}")
        return list_of(types[0] if types else DYN)

    def t_member_index(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        target, index = self.type_of(kids[0], scope), self.type_of(kids[1], scope)
        if target.kind == "dyn":
            return DYN
        if target.kind != "list":
            return self.fail(f"[...] picks an item of a list, not of {target}")
        if index.kind not in ("int", "dyn"):
            return self.fail(f"a list position is a whole number, not {index}")
        return target.elem or DYN

    def t_ident_arg(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        name = str(kids[0])
        args = kids[1].children if len(kids) > 1 and isinstance(kids[1], lark.Tree) else []
        if name not in _FUNCTIONS:
            close = difflib.get_close_matches(name, _FUNCTIONS | set(_METHODS) | _MACROS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            return self.fail(f"function '{name[:40]}' isn't available.{hint} Functions: size, int, double, "
                             "string; methods: startsWith, endsWith, contains; macros: all, exists, exists_one, "
                             "map, filter")
        if len(args) != 1:
            return self.fail(f"{name}() takes one value")
        arg = self.type_of(args[0], scope)
        if arg.nullable:
            return self.fail(f"{name}() of a value that can be null; check `!= null` first")
        if name == "size":
            if arg.kind not in ("string", "list", "dyn"):
                return self.fail(f"size() counts a list or a text, not {arg}")
            return INT
        if arg.kind not in ("int", "double", "string", "bool", "dyn"):
            return self.fail(f"{name}() converts a single value, not {arg}")
        return {"int": INT, "double": DOUBLE, "string": STRING}[name]

    def t_member_dot_arg(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        target_tree, name_token = kids[0], kids[1]
        name = str(name_token)
        args = kids[2].children if len(kids) > 2 and isinstance(kids[2], lark.Tree) else []
        target = self.type_of(target_tree, scope)
        if name in _MACROS:
            if target.kind not in ("list", "dyn"):
                return self.fail(f".{name}() runs over a list, not {target}")
            if len(args) != 2 or _sole_ident(args[0]) is None:
                return self.fail(f".{name}(x, test) takes a name and an expression")
            var = _sole_ident(args[0])
            if var in self.variables:
                return self.fail(f"'{var}' is a profile variable; pick another name inside .{name}()")
            body = self.type_of(args[1], {**scope, var: target.elem or DYN})
            if name == "map":
                return list_of(body)
            self.want(body, "bool", f"the test inside .{name}()")
            return target if name == "filter" else BOOL
        if name in _METHODS:
            if len(args) != _METHODS[name]:
                return self.fail(f".{name}() takes {_METHODS[name]} value(s)")
            arg_types = [self.type_of(arg, scope) for arg in args]
            if name == "size":
                return INT if target.kind in ("string", "list", "dyn") else self.fail(
                    f".size() counts a list or a text, not {target}")
            if target.kind not in ("string", "dyn") or any(a.kind not in ("string", "dyn") for a in arg_types):
                return self.fail(f".{name}() works on text only")
            return BOOL
        return self.t_ident_arg([name_token, *kids[2:]], scope)

    def t_member_dot(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        return self.fail(f"field access ('.{str(kids[1])[:30]}') isn't available: the variables have no fields")

    def t_map_lit(self, kids: list[Any], scope: dict[str, CelType]) -> CelType:
        return self.fail("maps ({...}) aren't available in conditions")


# ------------------------------------------------------------------------------------------
# Migration from the Jinja expressions LegDay used before


_PRECEDENCE = {"?": 0, "||": 1, "&&": 2, "rel": 3, "+": 4, "*": 5, "unary": 6, "atom": 7}


def jinja_to_cel(expression: str, doubles: Iterable[str] = (), types: Mapping[str, CelType] | None = None) -> str:
    """The CEL expression meaning what a Jinja condition meant; MigrationError when there is none.

    `doubles` names the variables that are decimals (distances), so a whole number compared with them is
    written 30.0, as CEL doesn't compare 30 with 30.0 for equality. `types` lets a name used as a test
    (Jinja's truthiness: `{% if niggles %}`) become an explicit one (`size(niggles) > 0`).
    """
    from jinja2 import Environment, TemplateSyntaxError
    from jinja2.parser import Parser

    if isinstance(expression, bool):
        return "true" if expression else "false"
    text = str(expression).strip()
    if not text:
        raise MigrationError("the condition is empty")
    try:
        parser = Parser(Environment(), text, state="variable")
        tree = parser.parse_expression()
        if not parser.stream.eos:
            raise MigrationError(f"unexpected '{parser.stream.current.value}' after the condition")
    except TemplateSyntaxError as exc:
        raise MigrationError(f"it isn't a valid Jinja expression either ({exc.message})") from None
    except RecursionError:
        raise MigrationError("it nests too deeply") from None
    return _Emitter(set(doubles), types).emit_bool(tree)[0]


def _cel_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


class _Emitter:
    """Writes Jinja expression nodes as CEL text, with brackets only where precedence needs them."""

    _COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">="}
    _BINARY = {"Add": "+", "Sub": "-", "Mul": "*", "Mod": "%"}

    def __init__(self, doubles: set[str], types: Mapping[str, CelType] | None = None) -> None:
        self.doubles = doubles
        self.types = types or {}

    def emit_bool(self, node: Any) -> tuple[str, int]:
        """`node` where Jinja tests its truth: a non-boolean name becomes an explicit test."""
        from jinja2 import nodes

        if isinstance(node, nodes.Name) and node.name in self.types:
            typed, rel = self.types[node.name], _PRECEDENCE["rel"]
            if typed.kind == "list":
                return f"size({node.name}) > 0", rel
            if typed.kind == "string":
                return (f"{node.name} != null" if typed.nullable else f"{node.name} != ''"), rel
            if typed.kind in _NUMBERS:
                return f"{node.name} != {'0.0' if typed.kind == 'double' else '0'}", rel
        return self.emit(node)

    def wrap_bool(self, node: Any, at_least: int) -> str:
        text, prec = self.emit_bool(node)
        return f"({text})" if prec < at_least else text

    def wrap(self, node: Any, at_least: int, double: bool = False) -> str:
        text, prec = self.emit(node, double)
        return f"({text})" if prec < at_least else text

    def emit(self, node: Any, double: bool = False) -> tuple[str, int]:
        from jinja2 import nodes

        atom, rel = _PRECEDENCE["atom"], _PRECEDENCE["rel"]
        if isinstance(node, nodes.Name):
            special = {"true": "true", "false": "false", "none": "null", "True": "true", "False": "false",
                       "None": "null"}
            return special.get(node.name, node.name), atom
        if isinstance(node, nodes.Const):
            value = node.value
            if isinstance(value, bool):
                return ("true" if value else "false"), atom
            if value is None:
                return "null", atom
            if isinstance(value, int):
                return (f"{value}.0" if double else str(value)), atom
            if isinstance(value, float):
                return repr(value), atom
            if isinstance(value, str):
                return _cel_string(value), atom
            raise MigrationError(f"the value {value!r:.30} has no CEL form")
        if isinstance(node, nodes.List | nodes.Tuple):
            return "[" + ", ".join(self.emit(item)[0] for item in node.items) + "]", atom
        if isinstance(node, nodes.Not):
            inner = node.node
            if isinstance(inner, nodes.Test) and inner.name == "none" and not inner.args:
                return f"{self.wrap(inner.node, rel + 1)} != null", rel
            if isinstance(inner, nodes.Compare) and len(inner.ops) == 1 and inner.ops[0].op in ("in", "notin"):
                flipped = nodes.Compare(inner.expr, [nodes.Operand("notin" if inner.ops[0].op == "in" else "in",
                                                                   inner.ops[0].expr)])
                return self.emit(flipped)
            return "!" + self.wrap_bool(inner, _PRECEDENCE["unary"]), _PRECEDENCE["unary"]
        if isinstance(node, nodes.And | nodes.Or):
            op, prec = ("&&", 2) if isinstance(node, nodes.And) else ("||", 1)
            return f"{self.wrap_bool(node.left, prec)} {op} {self.wrap_bool(node.right, prec + 1)}", prec
        if isinstance(node, nodes.Compare):
            parts, left = [], node.expr
            for operand in node.ops:
                parts.append(self.compare(left, operand.op, operand.expr))
                left = operand.expr
            if len(parts) == 1:
                return parts[0]
            return " && ".join(text if prec > 2 else f"({text})" for text, prec in parts), 2
        if isinstance(node, nodes.Test):
            return self.test(node)
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        if isinstance(node, nodes.Neg):
            return "-" + self.wrap(node.node, _PRECEDENCE["unary"], double), _PRECEDENCE["unary"]
        if isinstance(node, nodes.Pos):
            return self.emit(node.node, double)
        if isinstance(node, nodes.BinExpr) and type(node).__name__ in self._BINARY:
            op = self._BINARY[type(node).__name__]
            prec = _PRECEDENCE["+" if op in "+-" else "*"]
            double = double or self.is_double(node.left) or self.is_double(node.right)
            return f"{self.wrap(node.left, prec, double)} {op} {self.wrap(node.right, prec + 1, double)}", prec
        if isinstance(node, nodes.Div):
            return (f"double({self.emit(node.left)[0]}) / double({self.emit(node.right)[0]})",
                    _PRECEDENCE["*"])
        if isinstance(node, nodes.CondExpr):
            if node.expr2 is None:
                raise MigrationError("an 'x if y' without 'else' has no CEL form")
            return (f"{self.wrap_bool(node.test, 1)} ? {self.wrap(node.expr1, 1)} : {self.wrap(node.expr2, 0)}",
                    _PRECEDENCE["?"])
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and \
                isinstance(node.arg.value, int) and not isinstance(node.arg.value, bool):
            return f"{self.wrap(node.node, atom)}[{node.arg.value}]", atom
        if isinstance(node, nodes.Concat):
            return " + ".join(f"string({self.emit(part)[0]})" for part in node.nodes), _PRECEDENCE["+"]
        what = {"Pow": "'**' (powers)", "FloorDiv": "'//' (whole division)", "Getattr": "attribute access",
                "Call": "function calls", "Getitem": "looking up by name", "Slice": "slices",
                "Dict": "dictionaries"}.get(type(node).__name__, f"'{type(node).__name__}'")
        raise MigrationError(f"{what} has no CEL form here")

    def is_double(self, node: Any) -> bool:
        from jinja2 import nodes

        return isinstance(node, nodes.Name) and node.name in self.doubles

    def compare(self, left: Any, op: str, right: Any) -> tuple[str, int]:
        rel = _PRECEDENCE["rel"]
        if op in ("in", "notin"):
            text = f"{self.wrap(left, rel + 1)} in {self.wrap(right, rel + 1)}"
            return (text, rel) if op == "in" else (f"!({text})", _PRECEDENCE["unary"])
        if op not in self._COMPARE:
            raise MigrationError(f"the comparison '{op}' has no CEL form")
        double = self.is_double(left) or self.is_double(right)
        return f"{self.wrap(left, rel + 1, double)} {self._COMPARE[op]} {self.wrap(right, rel + 1, double)}", rel

    def test(self, node: Any) -> tuple[str, int]:
        rel = _PRECEDENCE["rel"]
        subject = self.wrap(node.node, rel + 1)
        args = [self.emit(arg)[0] for arg in node.args]
        if node.name == "none":
            return f"{subject} == null", rel
        if node.name in ("true", "false"):
            return f"{subject} == {node.name}", rel
        if node.name in ("odd", "even"):
            return f"{self.wrap(node.node, _PRECEDENCE['*'] + 1)} % 2 == {1 if node.name == 'odd' else 0}", rel
        if node.name == "divisibleby" and len(args) == 1:
            return f"{self.wrap(node.node, _PRECEDENCE['*'] + 1)} % {args[0]} == 0", rel
        if node.name == "defined":
            return "true", _PRECEDENCE["atom"]
        ops = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "in"}
        if node.name in ops and len(args) == 1:
            return f"{subject} {ops[node.name]} {args[0]}", rel
        raise MigrationError(f"the test 'is {node.name}' has no CEL form")

    def filter(self, node: Any) -> tuple[str, int]:
        atom = _PRECEDENCE["atom"]
        if node.node is None:
            raise MigrationError("a filter block has no CEL form")
        inner = self.emit(node.node)[0]
        if node.name in ("length", "count") and not node.args:
            return f"size({inner})", atom
        if node.name == "int" and not node.args:
            return f"int({inner})", atom
        if node.name == "float" and not node.args:
            return f"double({inner})", atom
        if node.name == "string" and not node.args:
            return f"string({inner})", atom
        if node.name == "abs" and not node.args:
            return f"({inner} < 0 ? -{inner} : {inner})", atom
        if node.name == "list" and not node.args:
            return inner, atom
        raise MigrationError(f"the filter '| {node.name}' has no CEL form")


def migrate_condition(expression: Any, variables: Mapping[str, Variable],
                      samples: Iterable[Mapping[str, Any]] = ()) -> tuple[str | None, str | None]:
    """A stored condition as valid CEL: (cel, None), or (None, reason) when it can't be converted.

    Text that is already valid CEL is kept as it is; otherwise it is read as the old Jinja syntax.
    """
    samples = list(samples)
    if isinstance(expression, bool):
        return ("true" if expression else "false"), None
    text = str(expression)
    if not check(text, variables, samples):
        return text, None
    doubles = [name for name, var in variables.items() if var.type.kind == "double"]
    try:
        converted = jinja_to_cel(text, doubles, {name: var.type for name, var in variables.items()})
    except MigrationError as exc:
        return None, f"the condition `{text[:80]}` can't be converted to CEL: {exc}"
    problems = check(converted, variables, samples)
    if problems:
        return None, f"the condition `{text[:80]}` converts to `{converted[:80]}`, which fails: {problems[0]}"
    return converted, None
