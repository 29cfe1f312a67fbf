"""clanLib rules: calls of the export helpers and renamed attributes (E22-E28)."""

from __future__ import annotations

import json
import re
from typing import Iterator

from ..model import AttrSet, Lambda, ServiceModule, SourceFile, Str
from ..model.calls import calls
from ..model.values import Env, Reader
from ..spec import schema
from ..syntax import Node
from ..syntax.queries import Select
from .base import ERROR, WARNING, Context, Edit, Fix, attribute_missing, did_you_mean, rename_fixes, rule

_SCOPE = tuple(f.name for f in schema.SCOPE_FIELDS)


def _sources(module: ServiceModule) -> Iterator[SourceFile]:
    seen: set[int] = set()
    for part in module.parts():
        if id(part.source) not in seen:
            seen.add(id(part.source))
            yield part.source


def _read(source: SourceFile, node: Node):
    return Reader(source.text).read(node, Env(None))


@rule("build-scope-key", ERROR, "E22", "`buildScopeKey`/`getExport` with a scope clan rejects")
def build_scope_key(ctx: Context) -> None:
    for source in _sources(ctx.module):
        for name, callee, args in calls(source, ("buildScopeKey", "getExport")):
            if not args:
                continue
            value = _read(source, args[0])
            if not isinstance(value, AttrSet) or value.dynamic:
                continue
            names = value.names()
            bad = [n for n in names if n not in _SCOPE]
            for unexpected in bad:
                key = value.key_nodes(unexpected)[0]
                close = did_you_mean(unexpected, _SCOPE)
                ctx.report(
                    key,
                    f"`{name}` takes no argument `{unexpected}`"
                    + (close or f" (it takes {', '.join(f'`{p}`' for p in _SCOPE)})"),
                    source=source,
                    fixes=rename_fixes(key, unexpected, _SCOPE),
                    # getExport hands its argument to buildScopeKey, so Nix names that function
                    clan_message=f"'buildScopeKey' at <clan-core>/lib/exports/exports.nix called with unexpected argument '{unexpected}'",
                )
            if bad:
                continue
            parts = {n: value.get(n) for n in names}

            def empty(part: str) -> bool:
                got = parts.get(part)
                return got is None or (isinstance(got, Str) and got.text == "")

            if all(empty(p) for p in _SCOPE):
                ctx.report(
                    args[0],
                    f"`{name}` names no scope part: global exports (\":::\") are not supported yet",
                    source=source,
                    code="global-scope-key",
                    severity=ERROR,
                    clan_message='buildScopeKey: Global exports (":::") are not yet supported.',
                )
                continue
            if name == "buildScopeKey" and empty("serviceName") and empty("machineName"):
                ctx.report(
                    args[0],
                    "`buildScopeKey` needs a `serviceName` or a `machineName`",
                    source=source,
                    clan_message="buildScopeKey requires at least 'serviceName' or 'machineName'",
                )
            for part_name, part in parts.items():
                if isinstance(part, Str) and part.text is not None and ":" in part.text:
                    # clan's own test (`.?:.?`) only catches short parts; longer ones pass it silently.
                    caught = re.fullmatch(r".?:.?", part.text, re.DOTALL) is not None
                    ctx.report(
                        part.node,
                        f'`{part_name}` "{part.text}" contains ":", which separates the parts of a scope key',
                        source=source,
                        clan_message=f'mkExportsScope: {part.text} cannot contain the ":" character' if caught else None,
                    )


def _predicate_fix(filters: AttrSet) -> tuple[Fix, ...]:
    """`{ serviceName = "a"; roleName = "b"; }` (the old filter) as the predicate it meant."""
    if filters.dynamic or filters.node is None:
        return ()
    tests = []
    for name in filters.names():
        value = filters.get(name)
        if name not in _SCOPE or not isinstance(value, Str) or value.text is None:
            return ()
        tests.append(f"scope.{name} == {json.dumps(value.text)}")
    predicate = "(scope: " + (" && ".join(tests) or "true") + ")"
    return (Fix("Write it as a predicate", (Edit(filters.node.start_byte, filters.node.end_byte, predicate),)),)


@rule("select-exports", ERROR, "E26", "`selectExports` called with an attrset, or a predicate reading a field a scope lacks")
def select_exports(ctx: Context) -> None:
    attrset_era = ctx.generation.date is not None and "2025-10-30" <= ctx.generation.date < "2025-12-02"
    for source in _sources(ctx.module):
        for _name, callee, args in calls(source, ("selectExports",)):
            if not args:
                continue
            predicate = _read(source, args[0])
            if isinstance(predicate, AttrSet):
                if attrset_era:
                    continue
                ctx.report(
                    args[0],
                    "`selectExports` takes a predicate, not an attrset: `selectExports (scope: scope.serviceName == \"...\") exports`",
                    source=source,
                    fixes=_predicate_fix(predicate),
                    clan_message="selectExports expected a function. But was called with set",
                )
                continue
            if not isinstance(predicate, Lambda):
                continue
            for formal in predicate.formals or ():
                if formal.name not in _SCOPE and not formal.has_default:
                    row, column = predicate.node.start_point if predicate.node is not None else (0, 0)
                    ctx.report(
                        formal.node,
                        _no_scope_field(formal.name),
                        source=source,
                        fixes=rename_fixes(formal.node, formal.name, _SCOPE),
                        # what Nix says when it calls the predicate with a scope
                        clan_message=f"anonymous function at {source.path or '<file>'}:{row + 1}:{column + 1} "
                        f"called without required argument '{formal.name}'",
                    )
            if predicate.param is None:
                continue
            body = predicate.body_thunk.node
            if body is None:
                continue
            param = predicate.param.encode()
            text = source.text
            for select in source.tree.index.selects_of(param, body):
                if not select.path.named_children:
                    continue
                first = select.path.named_children[0]
                if first.type != "identifier":
                    continue
                field = text[first.start_byte : first.end_byte].decode()
                if field in _SCOPE:
                    continue
                has_default = select.has_default  # `scope.x or ...` never fails: it is always the default
                ctx.report(
                    first,
                    _no_scope_field(field) + ("; so the `or` default is always used" if has_default else ""),
                    source=source,
                    severity=WARNING if has_default else ERROR,
                    fixes=rename_fixes(first, field, _SCOPE),
                    clan_message=None if has_default else attribute_missing(field),
                )


def _no_scope_field(name: str) -> str:
    close = did_you_mean(name, _SCOPE)
    return f"A scope has no field `{name}`" + (close or f" (it has {', '.join(f'`{p}`' for p in _SCOPE)})")


# The words of the renamed paths the two rules below look for (`clanLib.exports...`,
# `clanLib.vars.getPublicValue`): a select whose text lacks them is not read further.
_RENAMED_WORDS = ((b"exports",), (b"vars", b"getPublicValue"))


def _clanlib_selects(source: SourceFile) -> list[tuple[Select, list[str]]]:
    """`clanLib.exports...` and `clanLib.vars.getPublicValue` selects and their names, once
    per version of the file (two rules ask)."""
    return source.derived("clanLib selects", lambda: list(_find_clanlib_selects(source)))


# Where the text could spell one of them: `clanLib`, then `.exports` or `.vars`, or a comment
# that may sit between (then every `clanLib` select is read). Most modules have none: matched
# where the text spells `clanLib` (kept across edits), it spares reading their selects (130 us).
_MAY_BE_RENAMED = re.compile(rb"clanLib\s*(?:[#/]|\.\s*(?:exports|vars|[#/]))")


def _find_clanlib_selects(source: SourceFile) -> Iterator[tuple[Select, list[str]]]:
    text = source.text
    if not any(_MAY_BE_RENAMED.match(text, at) for at in source.tree.spelled(b"clanLib")):
        return
    for select in source.tree.index.selects_of(b"clanLib"):
        if select.has_attr:
            continue
        start, end = select.start_byte, select.end_byte
        if not any(all(text.find(word, start, end) != -1 for word in words) for words in _RENAMED_WORDS):
            continue  # its nodes are not looked up
        names = [text[a.start_byte : a.end_byte].decode() for a in select.path.named_children if a.type == "identifier"]
        yield select, names


@rule("clanlib-exports", ERROR, "E27", "`clanLib.exports.*`, renamed to `clanLib.*`")
def clanlib_exports(ctx: Context) -> None:
    for source in _sources(ctx.module):
        for select, names in _clanlib_selects(source):
            if names[:1] != ["exports"]:
                continue
            node = select.node
            path = node.child_by_field_name("attrpath")
            fixes: tuple[Fix, ...] = ()
            if len(names) >= 2 and path is not None and len(path.named_children) >= 2:
                first, second = path.named_children[0], path.named_children[1]
                fixes = (Fix(f"Use `clanLib.{names[1]}`", (Edit(first.start_byte, second.start_byte, ""),), safe=True),)
            summary = (
                f"`clanLib.exports.{names[1]}` is now `clanLib.{names[1]}`"
                if len(names) >= 2
                else "`clanLib.exports` was renamed: its helpers are in `clanLib` itself"
            )
            ctx.report(node, summary, source=source, fixes=fixes, clan_message=schema.CLANLIB_EXPORTS_RENAMED)


@rule("clanlib-renamed", WARNING, "E28", "`clanLib.vars.getPublicValue`, renamed to `clanLib.getPublicValue`")
def clanlib_renamed(ctx: Context) -> None:
    for source in _sources(ctx.module):
        for select, names in _clanlib_selects(source):
            if names[:2] == ["vars", "getPublicValue"]:
                ctx.report(
                    select.node,
                    "`clanLib.vars.getPublicValue` is now `clanLib.getPublicValue`",
                    source=source,
                    clan_message=schema.CLANLIB_VARS_GETPUBLICVALUE,
                )
