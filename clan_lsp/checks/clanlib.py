"""clanLib rules: calls of the export helpers and renamed attributes (E22-E28)."""

from __future__ import annotations

from typing import Iterator

from ..model import AttrSet, Lambda, ServiceModule, SourceFile, Str
from ..model.values import Env, Reader, dotted_name
from ..spec import schema
from ..syntax import Node
from .base import ERROR, WARNING, Context, Edit, Fix, did_you_mean, rename_fixes, rule

_SCOPE = tuple(f.name for f in schema.SCOPE_FIELDS)


def _sources(module: ServiceModule) -> Iterator[SourceFile]:
    seen: set[int] = set()
    for part in module.parts():
        if id(part.source) not in seen:
            seen.add(id(part.source))
            yield part.source


def calls(source: SourceFile, names: tuple[str, ...]) -> Iterator[tuple[str, Node, list[Node]]]:
    """(helper name, callee node, argument nodes) for every call of a helper in a file."""
    text = source.text
    endings = tuple(name.encode() for name in names)
    for call in source.tree.index.calls:
        if not call.callee_text.endswith(endings):  # cheap: most calls are of other functions
            continue
        callee = dotted_name(call.callee, text)
        if callee and callee[-1] in names:
            yield callee[-1], call.callee, call.args


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
                ctx.report(
                    key,
                    f"'{name}' called with unexpected argument '{unexpected}'. It takes "
                    f"{', '.join(_SCOPE)}.{did_you_mean(unexpected, _SCOPE)}",
                    source=source,
                    fixes=rename_fixes(key, unexpected, _SCOPE),
                )
            if bad:
                continue
            parts = {n: value.get(n) for n in names}

            def empty(part: str) -> bool:
                got = parts.get(part)
                return got is None or (isinstance(got, Str) and got.text == "")

            if all(empty(p) for p in _SCOPE):
                ctx.report(args[0], f'{name}: Global exports (":::") are not yet supported.', source=source, code="global-scope-key", severity=ERROR)
                continue
            if name == "buildScopeKey" and empty("serviceName") and empty("machineName"):
                ctx.report(args[0], "buildScopeKey requires at least 'serviceName' or 'machineName'", source=source)
            for part_name, part in parts.items():
                if isinstance(part, Str) and part.text is not None and ":" in part.text:
                    ctx.report(part.node, f'mkExportsScope: {part.text} cannot contain the ":" character', source=source)


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
                    "selectExports expected a function. But was called with set. It takes a predicate over the "
                    "scope: `selectExports (scope: scope.serviceName == \"...\") exports` (the attrset form "
                    "existed only from 2025-10-30 to 2025-12-02).",
                    source=source,
                )
                continue
            if not isinstance(predicate, Lambda):
                continue
            for formal in predicate.formals or ():
                if formal.name not in _SCOPE and not formal.has_default:
                    ctx.report(
                        formal.node,
                        f"A scope has no field '{formal.name}': the predicate sees {', '.join(_SCOPE)}.{did_you_mean(formal.name, _SCOPE)}",
                        source=source,
                        fixes=rename_fixes(formal.node, formal.name, _SCOPE),
                    )
            if predicate.param is None:
                continue
            body = predicate.body_thunk.node
            if body is None:
                continue
            param = predicate.param.encode()
            text = source.text
            for select in source.tree.index.selects_in(body):
                if select.base_text != param or not select.path.named_children:
                    continue
                first = select.path.named_children[0]
                if first.type != "identifier":
                    continue
                field = text[first.start_byte : first.end_byte].decode()
                if field in _SCOPE:
                    continue
                has_default = select.has_default
                ctx.report(
                    first,
                    f"attribute '{field}' missing: a scope has only {', '.join(_SCOPE)}.{did_you_mean(field, _SCOPE)}",
                    source=source,
                    severity=WARNING if has_default else ERROR,
                    fixes=rename_fixes(first, field, _SCOPE),
                )


def _clanlib_selects(source: SourceFile) -> Iterator[tuple[Node, list[str]]]:
    text = source.text
    for select in source.tree.index.selects:
        if select.has_attr or select.base_text != b"clanLib":
            continue
        names = [text[a.start_byte : a.end_byte].decode() for a in select.path.named_children if a.type == "identifier"]
        yield select.node, names


@rule("clanlib-exports", ERROR, "E27", "`clanLib.exports.*`, renamed to `clanLib.*`")
def clanlib_exports(ctx: Context) -> None:
    for source in _sources(ctx.module):
        for node, names in _clanlib_selects(source):
            if names[:1] != ["exports"]:
                continue
            path = node.child_by_field_name("attrpath")
            fixes: tuple[Fix, ...] = ()
            if len(names) >= 2 and path is not None and len(path.named_children) >= 2:
                first, second = path.named_children[0], path.named_children[1]
                fixes = (Fix(f"Use `clanLib.{names[1]}`", (Edit(first.start_byte, second.start_byte, ""),)),)
            ctx.report(node, schema.CLANLIB_EXPORTS_RENAMED, source=source, fixes=fixes)


@rule("clanlib-renamed", WARNING, "E28", "`clanLib.vars.getPublicValue`, renamed to `clanLib.getPublicValue`")
def clanlib_renamed(ctx: Context) -> None:
    for source in _sources(ctx.module):
        for node, names in _clanlib_selects(source):
            if names[:2] == ["vars", "getPublicValue"]:
                ctx.report(node, schema.CLANLIB_VARS_GETPUBLICVALUE, source=source)
