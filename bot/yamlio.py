"""Reading the YAML data files with errors that name the file, the line and the field at fault."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.errors import LegDayError


class DataFileError(LegDayError):
    """A data file (rules, catalogue, FAQ) that can't be used; `problems` lists every fault found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class UnreadableFile(DataFileError):
    """A file that can't be read as YAML text at all: not UTF-8, too large, too deeply nested, a device."""


class StrictLoader(yaml.SafeLoader):
    """The one YAML loading policy for every file and moderator submission.

    PyYAML's safe loader, where a key given twice in one mapping is an error naming its line (the second
    would otherwise silently win).
    """


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key (a list): the constructor below reports it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{str(key)[:60]}' appears twice in one mapping", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@contextmanager
def yaml_errors(source: str) -> Iterator[None]:
    """Turn PyYAML's errors inside the block into a DataFileError naming the source and line."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise DataFileError([f"{where}: YAML syntax error: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise DataFileError([f"{source}: YAML error: {exc}"]) from None


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text into plain data plus its node tree (for line numbers); syntax errors name the line."""
    try:
        with yaml_errors(source):
            node = yaml.compose(text, Loader=StrictLoader)
            data = yaml.load(text, Loader=StrictLoader)
    except RecursionError:
        raise UnreadableFile([f"{source}: nested too deeply to read; flatten it"]) from None
    return data, node


# No data file comes near this; it keeps /dev/zero or a mistaken multi-gigabyte file from being read whole.
MAX_FILE_BYTES = 4 * 1024 * 1024


def read_text(path: Path) -> str:
    """A data file's UTF-8 text, read at most MAX_FILE_BYTES; OSError, UnicodeDecodeError or DataFileError."""
    with Path(path).open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile([f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; is it the right file?"])
    return data.decode("utf-8")


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Load one YAML file; an unreadable file is a DataFileError, not a crash."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise UnreadableFile([f"{path}: can't read the file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError as exc:
        raise UnreadableFile([f"{path}: isn't UTF-8 text (byte {exc.start}); save it as UTF-8"]) from None
    return load_yaml(text, str(path))


def line_of(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """The 1-based line of the value at `path` (keys and list indexes) in a composed YAML tree."""
    best = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(key):
                    node = value_node
                    best = key_node.start_mark.line + 1
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            best = node.start_mark.line + 1
        else:
            return best
    return best


def describe_errors(
    error: ValidationError, source: str, node: yaml.Node | None, prefix: Sequence[Any] = (), label: str = ""
) -> list[str]:
    """One line per pydantic error: `file:line: <label> field.path: message`."""
    lines = []
    for item in error.errors():
        loc = [part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        line = line_of(node, [*prefix, *loc])
        where = f"{source}:{line}" if line else source
        field = ".".join(str(part) for part in loc) or "(whole entry)"
        message = item["msg"].removeprefix("Value error, ")
        if isinstance(item.get("input"), bool) and item["type"] == "string_type":
            message += " (YAML reads yes/no/on/off/true/false as true or false: put the text in quotes)"
        lines.append(f"{where}: {label}{' ' if label else ''}field '{field}': {message}")
    return lines
