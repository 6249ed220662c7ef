"""Corpus files as YAML: the one loader that keeps line numbers, and the one dumper.

Every mapping read by ``LineLoader`` carries the line it starts on under ``__line__``,
so a problem is reported as ``file:line``; ``load_lines`` refuses a file with more
aliases than a corpus file could need before anything walks its values. New entries
are written by ``dump_yaml``: block style, multi-line text as literal blocks, ids and
names quoted (``Quoted``), never an alias.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from yaml import SafeLoader as BaseLoader
else:
    try:  # the C loader reads large comment files several times faster
        BaseLoader = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - PyYAML built without libyaml
        BaseLoader = yaml.SafeLoader

LINE_KEY = "__line__"

_RESOLVED: dict[str, str] = {}  # plain scalar -> its implicit tag (keys and ids repeat a lot)
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Unusual(Exception):
    """A document the plain construction below leaves to PyYAML's general one."""


class LineLoader(BaseLoader):
    """A safe loader that records the line of every mapping under ``__line__``."""

    constructed_objects: dict[Any, Any]
    recursive_objects: dict[Any, Any]

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        # PyYAML tries a list of expressions on every plain scalar in Python, even with
        # the C parser; a plain scalar's tag depends on its text only, so remember it
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:
            return _STR_TAG  # quoted or block text is always a string
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < 100_000:
                _RESOLVED[value] = tag
        return tag

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping

    def construct_document(self, node: yaml.Node) -> Any:
        # PyYAML builds every value through a generic, generator-driven constructor; a
        # corpus file is mappings, lists and text, which can be built directly. Anything
        # else (merge keys, keys that are lists, a structure that contains itself) goes
        # the general way, so the result and the errors are PyYAML's.
        try:
            data = self._direct(node, {})
        except (_Unusual, RecursionError):
            self.constructed_objects, self.recursive_objects = {}, {}
            return super().construct_document(node)
        self.constructed_objects, self.recursive_objects = {}, {}
        self.deep_construct = False
        return data

    def _direct(self, node: yaml.Node, built: dict) -> Any:
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag not in (_MAP_TAG, _SEQ_TAG):
            if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
                raise _Unusual
            return self.construct_object(node, deep=True)
        # an alias is the same node again: build it once and share it, as PyYAML does
        # (so a "billion laughs" of aliases stays small)
        if node in built:
            if built[node] is None:  # inside itself
                raise _Unusual
            return built[node]
        built[node] = None
        value: Any
        if tag == _SEQ_TAG:
            value = [self._direct(item, built) for item in node.value]
        else:
            value = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    raise _Unusual
                key = self._direct(key_node, built)
                if isinstance(key, (dict, list)):
                    raise _Unusual
                value[key] = self._direct(value_node, built)
            value[LINE_KEY] = node.start_mark.line + 1
        built[node] = value
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        # an impossible date such as 2010-13-45 stays text, to be reported with its line
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


LineLoader.add_constructor("tag:yaml.org,2002:timestamp", LineLoader.construct_yaml_timestamp)


ALIAS_BUDGET = 50  # YAML aliases (*name) in one file; a corpus file needs none


def alias_problem(text: str) -> tuple[int, str] | None:
    """Return (line, message) when a YAML text uses more aliases than the budget allows.

    Aliases are shared when a file is read, but anything that walks or copies the values
    (an edit, a dump) expands them: a few lines of nested aliases become billions of
    values. Corpus files need none, so more than a few are refused before any use.
    """
    if "&" not in text or "*" not in text:
        return None
    count = 0
    try:
        for event in yaml.parse(text, Loader=BaseLoader):
            if isinstance(event, yaml.AliasEvent):
                count += 1
                if count > ALIAS_BUDGET:
                    mark, anchor = event.start_mark, event.anchor or ""  # (the parser sets both)
                    return (
                        mark.line + 1 if mark else 1,
                        f"more than {ALIAS_BUDGET} YAML aliases (*{anchor[:30]}); "
                        "write the values out instead of repeating anchors",
                    )
    except yaml.YAMLError:
        return None  # the load reports it with its line
    return None


def load_lines(text: str) -> Any:
    """Parse corpus YAML with ``LineLoader``: every mapping carries its line under ``__line__``."""
    return yaml.load(text, Loader=LineLoader)  # noqa: S506 - a safe loader subclass


def compose(text: str) -> yaml.Node | None:
    """Return the node tree of a YAML text (where each entry and key sits in the file)."""
    return yaml.compose(text, Loader=BaseLoader)


def strip_lines(data: Any) -> Any:
    """Return data without the ``__line__`` keys ``LineLoader`` adds."""
    if isinstance(data, dict):
        return {k: strip_lines(v) for k, v in data.items() if k != LINE_KEY}
    if isinstance(data, list):
        return [strip_lines(v) for v in data]
    return data


def load_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader (no line numbers)."""
    return yaml.load(text, Loader=BaseLoader)  # noqa: S506 - the safe loader


class Quoted(str):
    """A string written in double quotes, as the corpus format shows ids and names."""


class _Dumper(yaml.SafeDumper):
    """A safe dumper that writes multi-line text as literal blocks and never uses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_quoted(dumper: yaml.SafeDumper, value: Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    flow = all(isinstance(v, str) and "\n" not in v for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Quoted, _represent_quoted)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    """Return YAML text for data: block style, unicode kept, key order kept."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )
