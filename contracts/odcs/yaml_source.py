"""Contract YAML read as plain JSON data together with its node tree, so every error can name its line."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import yaml


class _JsonLoader(yaml.SafeLoader):
    """SafeLoader whose timestamps stay text: ODCS is JSON data, where dates and timestamps
    (`contractCreatedTs`, date bounds) are strings, and the stored spec must serialise as JSON."""


_JsonLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Source:
    """A YAML document that loaded: its data and the node tree the data came from."""

    data: object
    root: yaml.Node


def load(text: str) -> tuple[Source | None, list[str]]:
    """The document and its nodes, or None and one message per YAML problem (syntax, duplicate or non-text
    keys), each starting with the line."""
    try:
        root = yaml.compose(text, Loader=_JsonLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else "line 1: "
        return None, [f"{where}invalid YAML: {getattr(exc, 'problem', None) or exc}"]
    if root is None:
        return None, ["line 1: the contract is empty"]
    problems = sorted(_key_problems(root))
    if problems:
        return None, [message for _, message in problems]
    loader = _JsonLoader("")
    try:
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or root.start_mark
        return None, [f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {exc}"]
    finally:
        loader.dispose()
    return Source(data=data, root=root), []


def compose(text: str) -> yaml.Node | None:
    """The node tree of a document known to load (for line numbers only)."""
    return yaml.compose(text, Loader=_JsonLoader)


def _key_problems(root: yaml.Node) -> Iterator[tuple[int, str]]:
    """Duplicate keys (YAML keeps the last one silently) and keys that are not text (JSON has only text keys)."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # an alias points back at a node already visited
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                stack.append(value)
                if key.tag == _MERGE_TAG:
                    continue
                line = key.start_mark.line + 1
                where = f"line {line}, column {key.start_mark.column + 1}: invalid YAML"
                if not isinstance(key, yaml.ScalarNode) or key.tag != _STR_TAG:
                    yield line, f"{where}: the key {_node_text(key)} must be text (quote it)"
                elif key.value in first_line:
                    yield line, f"{where}: duplicate key {key.value!r} (first on line {first_line[key.value]})"
                else:
                    first_line[key.value] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _node_text(node: yaml.Node) -> str:
    return repr(node.value) if isinstance(node, yaml.ScalarNode) else "(a list or mapping)"


def line_of(root: yaml.Node, path: Sequence[str | int]) -> int:
    """1-based line of the deepest key or list item `path` reaches: the offending key itself, or its parent when
    the key is missing."""
    node, line = root, root.start_mark.line
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            entry = next(((key, value) for key, value in node.value if key.value == part), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1
