"""Does a literal Nix value fit an option type? Unknown values always fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..model import AttrSet, Bool, Float, Int, Lambda, ListValue, Null, PathValue, Str, Value
from ..spec import types as t
from ..syntax import Node
from .base import not_of_type, option_does_not_exist


@dataclass
class Mismatch:
    node: Node | None
    message: str  # our statement
    clan_message: str  # what the module system prints
    unknown: str | None = None  # the name, when the mismatch is an attribute that is no option


def mismatches(value: Value, nix_type: t.NixType, path: str, clan_prefix: str = "") -> Iterator[Mismatch]:
    """Where a value is not of its type, naming the offending node and the option path.

    `clan_prefix` goes before `path` in clan's words, where clan's option path is longer
    than the one a reader needs (e.g. the service id before an instance's settings).
    """
    if isinstance(nix_type, t.NullOr):
        if isinstance(value, Null):
            return
        yield from mismatches(value, nix_type.inner, path, clan_prefix)
        return
    if isinstance(nix_type, t.Either):
        if not list(mismatches(value, nix_type.left, path)) or not list(mismatches(value, nix_type.right, path)):
            return
        yield _wrong(value, nix_type, path, clan_prefix)
        return
    kind = type(nix_type)
    if kind is t.NixType or kind is t.Module or kind is t.Function:
        if kind is t.Module and isinstance(value, (Str, Int, Float, Bool, Null, ListValue)):
            yield _wrong(value, nix_type, path, clan_prefix)
        return
    if not isinstance(value, (Str, Int, Float, Bool, Null, PathValue, ListValue, AttrSet, Lambda)):
        return  # unknown, a call, a variable: not ours to judge
    if isinstance(nix_type, (t.Str, t.StrMatching, t.Enum)):
        if not isinstance(value, Str):
            yield _wrong(value, nix_type, path, clan_prefix)
        elif value.text is not None:
            if isinstance(nix_type, t.Enum) and value.text not in nix_type.values:
                yield _wrong(value, nix_type, path, clan_prefix)
            elif isinstance(nix_type, t.StrMatching) and re.fullmatch(nix_type.pattern, value.text) is None:
                yield _wrong(value, nix_type, path, clan_prefix)
        return
    if isinstance(nix_type, t.Int):
        if not isinstance(value, Int):
            yield _wrong(value, nix_type, path, clan_prefix)
        elif (nix_type.minimum is not None and value.number < nix_type.minimum) or (
            nix_type.maximum is not None and value.number > nix_type.maximum
        ):
            yield _wrong(value, nix_type, path, clan_prefix)
        return
    if isinstance(nix_type, t.Float):
        if not isinstance(value, (Float, Int)):
            yield _wrong(value, nix_type, path, clan_prefix)
        return
    if isinstance(nix_type, t.Bool):
        if not isinstance(value, Bool):
            yield _wrong(value, nix_type, path, clan_prefix)
        return
    if isinstance(nix_type, t.Path):
        if not isinstance(value, (PathValue, Str)):
            yield _wrong(value, nix_type, path, clan_prefix)
        return
    if isinstance(nix_type, t.ListOf):
        if not isinstance(value, ListValue):
            yield _wrong(value, nix_type, path, clan_prefix)
            return
        for index, item in enumerate(value.items(), start=1):
            yield from mismatches(item, nix_type.element, f'{path}."[definition 1-entry {index}]"', clan_prefix)
        return
    if isinstance(nix_type, t.AttrsOf):
        if not isinstance(value, AttrSet):
            yield _wrong(value, nix_type, path, clan_prefix)
            return
        for name in value.names():
            item = value.get(name)
            if item is not None:
                yield from mismatches(item, nix_type.element, f"{path}.{name}", clan_prefix)
        return
    if isinstance(nix_type, t.Submodule):
        if not isinstance(value, AttrSet):
            yield _wrong(value, nix_type, path, clan_prefix)
            return
        for name in value.names():
            option = nix_type.option(name)
            keys = value.key_nodes(name)
            if option is None:
                yield Mismatch(
                    keys[0] if keys else value.node,
                    f"Unknown option {_readable(f'{path}.{name}')}",
                    option_does_not_exist(f"{clan_prefix}{path}.{name}"),
                    unknown=name,
                )
                continue
            item = value.get(name)
            if item is not None:
                yield from mismatches(item, option.type, f"{path}.{name}", clan_prefix)
        return
    if isinstance(nix_type, t.AttrTag):
        if not isinstance(value, AttrSet):
            yield _wrong(value, nix_type, path, clan_prefix)
            return
        names = value.names()
        tags = {tag.name: tag for tag in nix_type.tags}
        if value.dynamic:
            return
        if len(names) != 1 or names[0] not in tags:
            choices = " or ".join(f"`{n}`" for n in tags)
            description = "attribute-tagged union with choices: " + ", ".join(sorted(tags))
            yield Mismatch(
                value.node,
                f"{_readable(path)} must set exactly one of {choices}",
                not_of_type(f"{clan_prefix}{path}", description),
            )
            return
        item = value.get(names[0])
        if item is not None:
            yield from mismatches(item, tags[names[0]].type, f"{path}.{names[0]}", clan_prefix)


def _wrong(value: Value, nix_type: t.NixType, path: str, clan_prefix: str = "") -> Mismatch:
    return Mismatch(
        value.node,
        f"Wrong type for {_readable(path)}: expected {nix_type.description}, got {value.describe()}",
        not_of_type(f"{clan_prefix}{path}", nix_type.description),
    )


_ENTRY = re.compile(r'\."\[definition 1-entry (\d+)\]"')


def _readable(path: str) -> str:
    """`a.b."[definition 1-entry 2]".c` (the module system's name for a list entry) as `a.b` entry 2 `c`."""
    pieces = _ENTRY.split(path)
    text = f"`{pieces[0]}`"
    for index in range(1, len(pieces), 2):
        text += f" entry {pieces[index]}"
        rest = pieces[index + 1].lstrip(".")
        if rest:
            text += f" `{rest}`"
    return text
