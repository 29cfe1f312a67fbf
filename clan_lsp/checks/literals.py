"""Does a literal Nix value fit an option type? Unknown values always fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..model import AttrSet, Bool, Float, Int, Lambda, ListValue, Null, PathValue, Str, Value
from ..spec import types as t
from ..syntax import Node


@dataclass
class Mismatch:
    node: Node | None
    message: str


def mismatches(value: Value, nix_type: t.NixType, path: str) -> Iterator[Mismatch]:
    """Where a value is not of its type, naming the offending node and the option path."""
    if isinstance(nix_type, t.NullOr):
        if isinstance(value, Null):
            return
        yield from mismatches(value, nix_type.inner, path)
        return
    if isinstance(nix_type, t.Either):
        if not list(mismatches(value, nix_type.left, path)) or not list(mismatches(value, nix_type.right, path)):
            return
        yield _wrong(value, nix_type, path)
        return
    kind = type(nix_type)
    if kind is t.NixType or kind is t.Module or kind is t.Function:
        if kind is t.Module and isinstance(value, (Str, Int, Float, Bool, Null, ListValue)):
            yield _wrong(value, nix_type, path)
        return
    if not isinstance(value, (Str, Int, Float, Bool, Null, PathValue, ListValue, AttrSet, Lambda)):
        return  # unknown, a call, a variable: not ours to judge
    if isinstance(nix_type, (t.Str, t.StrMatching, t.Enum)):
        if not isinstance(value, Str):
            yield _wrong(value, nix_type, path)
        elif value.text is not None:
            if isinstance(nix_type, t.Enum) and value.text not in nix_type.values:
                yield _wrong(value, nix_type, path)
            elif isinstance(nix_type, t.StrMatching) and re.fullmatch(nix_type.pattern, value.text) is None:
                yield _wrong(value, nix_type, path)
        return
    if isinstance(nix_type, t.Int):
        if not isinstance(value, Int):
            yield _wrong(value, nix_type, path)
        elif (nix_type.minimum is not None and value.number < nix_type.minimum) or (
            nix_type.maximum is not None and value.number > nix_type.maximum
        ):
            yield _wrong(value, nix_type, path)
        return
    if isinstance(nix_type, t.Float):
        if not isinstance(value, (Float, Int)):
            yield _wrong(value, nix_type, path)
        return
    if isinstance(nix_type, t.Bool):
        if not isinstance(value, Bool):
            yield _wrong(value, nix_type, path)
        return
    if isinstance(nix_type, t.Path):
        if not isinstance(value, (PathValue, Str)):
            yield _wrong(value, nix_type, path)
        return
    if isinstance(nix_type, t.ListOf):
        if not isinstance(value, ListValue):
            yield _wrong(value, nix_type, path)
            return
        for index, item in enumerate(value.items(), start=1):
            yield from mismatches(item, nix_type.element, f'{path}."[definition 1-entry {index}]"')
        return
    if isinstance(nix_type, t.AttrsOf):
        if not isinstance(value, AttrSet):
            yield _wrong(value, nix_type, path)
            return
        for name in value.names():
            item = value.get(name)
            if item is not None:
                yield from mismatches(item, nix_type.element, f"{path}.{name}")
        return
    if isinstance(nix_type, t.Submodule):
        if not isinstance(value, AttrSet):
            yield _wrong(value, nix_type, path)
            return
        for name in value.names():
            option = nix_type.option(name)
            keys = value.key_nodes(name)
            if option is None:
                yield Mismatch(keys[0] if keys else value.node, f"The option `{path}.{name}` does not exist.")
                continue
            item = value.get(name)
            if item is not None:
                yield from mismatches(item, option.type, f"{path}.{name}")
        return
    if isinstance(nix_type, t.AttrTag):
        if not isinstance(value, AttrSet):
            yield _wrong(value, nix_type, path)
            return
        names = value.names()
        tags = {tag.name: tag for tag in nix_type.tags}
        if value.dynamic:
            return
        if len(names) != 1 or names[0] not in tags:
            choices = " or ".join(f"`{n}`" for n in tags)
            yield Mismatch(value.node, f"A definition for option `{path}` must set exactly one of {choices}.")
            return
        item = value.get(names[0])
        if item is not None:
            yield from mismatches(item, tags[names[0]].type, f"{path}.{names[0]}")


def _wrong(value: Value, nix_type: t.NixType, path: str) -> Mismatch:
    return Mismatch(
        value.node,
        f"A definition for option `{path}` is not of type `{nix_type.description}` (it is {value.describe()}).",
    )
