"""Structure rules: which attributes exist at top level, in manifest, roles and results."""

from __future__ import annotations

from typing import Iterator

from ..model import AttrSet, Lambda, ListValue, Null, ServiceModule, Str, Value
from ..model.service import SERVICE_CLASS
from ..spec import schema
from ..spec import types as t
from .base import (
    ERROR, WARNING, Context, Edit, Fix, did_you_mean, not_of_type, option_does_not_exist, rename_fixes, rule,
)
from ..syntax.parse import BINDINGS, binding_of
from .literals import mismatches


def _name_of(module: ServiceModule) -> str | None:
    for value in module.values("manifest", "name"):
        if isinstance(value, Str) and value.text is not None:
            return value.text
    return None


def _label(module: ServiceModule) -> str:
    return _name_of(module) or "<manifest.name>"


_KNOWN: dict[tuple[int, object], tuple[list[str], frozenset[str], tuple]] = {}


def _known_options(ctx: Context, options: tuple[schema.Option, ...]) -> tuple[list[str], frozenset[str]]:
    """The names of the options a generation has, in order and as a set: worked out once per
    table of the spec (module-level tuples) and generation, not on every keystroke."""
    key = (id(options), ctx.generation)
    known = _KNOWN.get(key)
    if known is None or known[2] is not options:
        names = [o.name for o in options if ctx.generation.has(o.since, o.removed)]
        known = _KNOWN[key] = (names, frozenset(names), options)
    return known[0], known[1]


def check_keys(
    ctx: Context,
    part: ServiceModule,
    attrs: AttrSet,
    options: tuple[schema.Option, ...],
    prefix: str,
    extra: tuple[str, ...] = (),
    clan_prefix: str | None = None,
) -> None:
    """Report keys that are not options here; removed ones say what replaced them.

    `clan_prefix` is the path clan names the options by, when it is not `prefix` (a
    perInstance or perMachine result is a module evaluation of its own).
    """
    clan_prefix = prefix if clan_prefix is None else clan_prefix
    known, known_set = _known_options(ctx, options)
    suggestions: list[str] | None = None
    for name in attrs.names():
        if name in known_set or name in extra:
            continue
        if suggestions is None:
            allowed = known + list(extra)
            suggestions = [n for n in allowed if n not in schema.MODULE_KEYWORDS] or allowed
        option = schema.find(options, name)
        for key in attrs.key_nodes(name)[:1]:
            if option is not None and option.removed is not None and not ctx.generation.has(option.since, option.removed):
                replaced = f"; use `{option.replaced_by}` instead" if option.replaced_by else ""
                fixes = ()
                if option.replaced_by and option.replaced_by.startswith(prefix.split(".")[0] + "."):
                    new_key = option.replaced_by[len(prefix) + 1 :] if prefix else option.replaced_by
                    fixes = (Fix(f"Rename to `{option.replaced_by}`", (Edit(key.start_byte, key.end_byte, new_key),)),)
                else:
                    binding = binding_of(key, BINDINGS)
                    if binding is not None:
                        fixes = (Fix(f"Remove the removed option `{prefix}.{name}`", (Edit(binding.start_byte, binding.end_byte, ""),), safe=True),)
                ctx.report(
                    key,
                    f"`{_join(prefix, name)}` was removed from clan-core on {option.removed}{replaced}",
                    source=part.source,
                    code="removed-option",
                    fixes=fixes,
                    clan_message=option_does_not_exist(_join(clan_prefix, name)),
                )
            elif option is not None and option.since is not None and not ctx.generation.has(option.since):
                ctx.report(
                    key,
                    f"`{_join(prefix, name)}` is not in {ctx.generation.describe()}: it appeared on {option.since}",
                    source=part.source,
                    clan_message=option_does_not_exist(_join(clan_prefix, name)),
                )
            else:
                ctx.report(
                    key,
                    f"Unknown {'top-level ' if not prefix else ''}option `{_join(prefix, name)}`{did_you_mean(name, suggestions)}",
                    source=part.source,
                    fixes=rename_fixes(key, name, suggestions),
                    clan_message=option_does_not_exist(_join(clan_prefix, name)),
                )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _uses_config_style(part: ServiceModule) -> bool:
    return part.body.has("options") or part.body.has("config")


def _declared(attrs: AttrSet, name: str = "options") -> tuple[str, ...] | None:
    """First-level names under `options` (own options a module declares); None if unknowable."""
    options = attrs.get(name)
    if options is None:
        return ()
    if not isinstance(options, AttrSet) or options.dynamic:
        return None
    return tuple(options.names())


# ---------------------------------------------------------------- top level


@rule("unknown-option", ERROR, "E8", "An attribute that is not an option of clan.service (top level, manifest, roles, results)")
def unknown_options(ctx: Context) -> None:
    for part in ctx.module.parts():
        body = part.effective()
        own = _declared(part.body)
        if own is not None:
            keywords = schema.MODULE_KEYWORDS
            check_keys(ctx, part, body, schema.TOP_LEVEL, "", extra=keywords + own)
        manifest = body.get("manifest")
        if isinstance(manifest, AttrSet):
            check_keys(ctx, part, manifest, schema.MANIFEST, "manifest")
            exports = manifest.get("exports")
            if isinstance(exports, AttrSet):
                check_keys(ctx, part, exports, schema.MANIFEST_EXPORTS, "manifest.exports")
            constraints = manifest.get("constraints")
            if isinstance(constraints, AttrSet):
                check_keys(ctx, part, constraints, schema.MANIFEST_CONSTRAINTS, "manifest.constraints")
        for role_name, role in roles_of(part):
            if isinstance(role, AttrSet):
                check_keys(ctx, part, role, schema.ROLE, f"roles.{role_name}")
        for where, result in results_of(part):
            own_results = _declared(result)
            if own_results is None:
                continue
            check_keys(ctx, part, result, schema.RESULT, where, extra=schema.MODULE_KEYWORDS + own_results, clan_prefix="")


def roles_of(part: ServiceModule) -> list[tuple[str, Value]]:
    """(name, value) of each role a part declares (read once per part)."""
    return part.derived("roles_of", lambda: list(_roles_of(part)))


def _roles_of(part: ServiceModule) -> Iterator[tuple[str, Value]]:
    roles = part.effective().get("roles")
    if not isinstance(roles, AttrSet):
        return
    for name in roles.names():
        value = roles.get(name)
        if value is not None:
            yield name, value


def body_of(value: Value | None) -> Value | None:
    """The attrset a perInstance/perMachine module returns (function or plain attrset)."""
    if isinstance(value, Lambda):
        return value.body
    return value


def results_of(part: ServiceModule) -> list[tuple[str, AttrSet]]:
    """(label, result attrset) of every perInstance and perMachine in a part (read once per part)."""
    return part.derived("results_of", lambda: list(_results_of(part)))


def _results_of(part: ServiceModule) -> Iterator[tuple[str, AttrSet]]:
    for role_name, role in roles_of(part):
        if isinstance(role, AttrSet):
            result = body_of(role.get("perInstance"))
            if isinstance(result, AttrSet):
                yield f"roles.{role_name}.perInstance", result
    result = body_of(part.effective().get("perMachine"))
    if isinstance(result, AttrSet):
        yield "perMachine", result


@rule("wrong-class", ERROR, "E9", "`_class` other than \"clan.service\", or a role interface of another class")
def wrong_class(ctx: Context) -> None:
    for part in ctx.module.parts():
        value = part.body.get("_class")
        if isinstance(value, Str) and value.text is not None and value.text != SERVICE_CLASS:
            where = part.source.path or "<file>"
            ctx.report(
                value.node,
                f'Wrong `_class` "{value.text}": a service module\'s `_class` is "{SERVICE_CLASS}"',
                source=part.source,
                clan_message=f'The module `{where}` (class: "{value.text}") cannot be imported into a module evaluation '
                f'that expects class "{SERVICE_CLASS}".',
                fixes=(Fix(f'Change to "{SERVICE_CLASS}"', (Edit(value.node.start_byte, value.node.end_byte, f'"{SERVICE_CLASS}"'),)),),
            )
        name = _name_of(ctx.module)
        if name is None:
            continue
        for role_name, role in roles_of(part):
            if not isinstance(role, AttrSet):
                continue
            interface = body_of(role.get("interface"))
            if not isinstance(interface, AttrSet):
                continue
            cls = interface.get("_class")
            expected = f"{name}.{role_name}.settings"
            if isinstance(cls, Str) and cls.text is not None and cls.text != expected:
                ctx.report(
                    cls.node,
                    f'Wrong `_class` "{cls.text}" in the interface of role `{role_name}`: it must be "{expected}"',
                    source=part.source,
                    clan_message=f'The module `{part.source.path or "<file>"}, via option roles.{role_name}.interface` '
                    f'(class: "{cls.text}") cannot be imported into a module evaluation that expects class "{expected}".',
                )


@rule("config-mixed", ERROR, "E12", "Top-level `options`/`config` next to other settings")
def config_mixed(ctx: Context) -> None:
    for part in ctx.module.parts():
        if not _uses_config_style(part):
            continue
        stray = [n for n in part.body.names() if n not in schema.MODULE_KEYWORDS and n != "_class"]
        if not stray:
            continue
        where = part.source.path or "<file>"
        # clan names the first of them, in the module system's (sorted) order, and lists all.
        named = sorted(stray)
        clan_message = (
            f"Module `{where}' has an unsupported attribute `{named[0]}'. This is caused by introducing a "
            "top-level `config' or `options' attribute. Add configuration attributes immediately on the "
            "top level instead, or move all of them (namely: " + " ".join(named) + ") into the explicit "
            "`config' attribute."
        )
        for name in stray:
            for key in part.body.key_nodes(name)[:1]:
                ctx.report(
                    key,
                    f"`{name}` next to a top-level `options` or `config`: move it into `config`",
                    source=part.source,
                    clan_message=clan_message,
                )


def _module_anchor(module: ServiceModule):
    body = module.body
    if body.node is not None and body.node.child_count:
        first = body.node.children[0]
        if first.type in ("{", "rec"):
            return first
    return body.node


@rule("missing-roles", ERROR, "E1", "`roles` is never defined")
def missing_roles(ctx: Context) -> None:
    module = ctx.module
    if module.kind == "fragment" or module.is_dynamic():
        return
    if any(part.effective().has("roles") for part in module.parts()):
        return
    name = _label(module)
    ctx.report(
        _module_anchor(module),
        "No `roles`: a service module must define its roles (`roles = { };` at least)",
        fixes=_insert_fix(module, "Add `roles.default = { };`", "roles.default = { };"),
        clan_message=f"Role behavior of service '{name}' must be defined.\n"
        "A 'clan.service' module should always define its behavior via 'roles'\n"
        "---\n"
        "To add the role:\n"
        "`roles.client = {}`",
    )


def _insert_fix(module: ServiceModule, title: str, text: str) -> tuple[Fix, ...]:
    anchor = _module_anchor(module)
    if anchor is None or anchor.type != "{":
        return ()
    return (Fix(title, (Edit(anchor.end_byte, anchor.end_byte, f"\n  {text}"),)),)


@rule("missing-manifest-name", ERROR, "E10", "`manifest.name` is never set")
def missing_name(ctx: Context) -> None:
    module = ctx.module
    if module.kind == "fragment" or module.is_dynamic():
        return
    manifests = module.values("manifest")
    if any(not isinstance(m, AttrSet) or m.dynamic for m in manifests):
        return
    if module.values("manifest", "name"):
        return
    anchor = None
    for part in module.parts():
        keys = part.effective().key_nodes("manifest")
        if keys:
            anchor = keys[0]
            break
    ctx.report(
        anchor or _module_anchor(module),
        "No `manifest.name`: every service needs a name",
        fixes=_insert_fix(module, "Add `manifest.name`", 'manifest.name = "";'),
        clan_message="The option `manifest.name' was accessed but has no value defined. Try setting the option.",
    )


@rule("invalid-manifest-name", ERROR, "E21", "`manifest.name` contains `:`, so no export scope key can be parsed")
def manifest_name_colon(ctx: Context) -> None:
    # Only export keys parse the name: without exports clan never notices.
    from .exports import export_sites

    writes_exports = any(True for _ in export_sites(ctx.module))
    for part in ctx.module.parts():
        value = part.effective().path("manifest", "name")
        if isinstance(value, Str) and value.text is not None and ":" in value.text:
            # clan fails only once an export key is parsed: without exports it prints nothing.
            ctx.report(
                value.node,
                f'`manifest.name` "{value.text}" contains ":", so no export scope key of this service can be parsed'
                + ("" if writes_exports else " (once it exports)"),
                source=part.source,
                severity=ERROR if writes_exports else WARNING,
                clan_message="parseScope: invalid scope string format.\n"
                f"Got '{value.text}:<instanceName>:<roleName>:<machineName>'"
                if writes_exports
                else None,
            )


@rule("unknown-category", ERROR, "E11", "A category that is not one of the 16 allowed values")
def unknown_category(ctx: Context) -> None:
    allowed = ", ".join(f'"{c}"' for c in schema.CATEGORIES)
    for part in ctx.module.parts():
        categories = part.effective().path("manifest", "categories")
        if not isinstance(categories, ListValue):
            continue
        for index, item in enumerate(categories.items(), start=1):
            if isinstance(item, Str) and item.text is not None and item.text not in schema.CATEGORIES:
                ctx.report(
                    item.node,
                    f'Unknown category "{item.text}"{did_you_mean(item.text, schema.CATEGORIES, quote=chr(34))}',
                    source=part.source,
                    fixes=rename_fixes(item.node, item.text, schema.CATEGORIES, quote=True),
                    clan_message=not_of_type(f'manifest.categories."[definition 1-entry {index}]"', f"one of {allowed}"),
                )


@rule("wrong-type", ERROR, "E8", "A literal of the wrong type for a manifest or role option")
def wrong_types(ctx: Context) -> None:
    for part in ctx.module.parts():
        manifest = part.effective().get("manifest")
        if isinstance(manifest, AttrSet):
            for option in schema.MANIFEST:
                value = manifest.get(option.name)
                if value is None or option.name == "categories":  # categories: unknown-category says it better
                    continue
                if option.children:
                    if isinstance(value, AttrSet):
                        for child in option.children:
                            inner = value.get(child.name)
                            if inner is not None:
                                _report_mismatches(ctx, part, inner, child.type, f"manifest.{option.name}.{child.name}")
                    continue
                _report_mismatches(ctx, part, value, option.type, f"manifest.{option.name}")
            categories = manifest.get("categories")
            if categories is not None and not isinstance(categories, ListValue):
                _report_mismatches(ctx, part, categories, t.ListOf(t.STR), "manifest.categories")
        for role_name, role in roles_of(part):
            if not isinstance(role, AttrSet):
                _report_mismatches(ctx, part, role, t.Submodule(schema.ROLE), f"roles.{role_name}")
                continue
            description = role.get("description")
            if description is not None:
                _report_mismatches(ctx, part, description, t.NullOr(t.STR), f"roles.{role_name}.description")


def _report_mismatches(ctx: Context, part: ServiceModule, value: Value, nix_type: t.NixType, path: str) -> None:
    for mismatch in mismatches(value, nix_type, path):
        ctx.report(mismatch.node, mismatch.message, source=part.source, clan_message=mismatch.clan_message)


# ---------------------------------------------------------------- clan's warnings (section 10)


@rule("missing-role-description", WARNING, None, "A role without `description` (clan warns on every machine)")
def missing_role_description(ctx: Context) -> None:
    if not ctx.generation.has("2025-10-01"):
        return
    if ctx.module.is_dynamic():
        return
    described: dict[str, bool] = {}
    anchors = {}
    for part in ctx.module.parts():
        roles = part.effective().get("roles")
        if not isinstance(roles, AttrSet):
            continue
        for name in roles.names():
            role = roles.get(name)
            keys = roles.key_nodes(name)
            anchors.setdefault(name, (part, keys[0] if keys else None))
            if not isinstance(role, AttrSet) or role.dynamic:
                described[name] = True
                continue
            description = role.get("description")
            has = description is not None and not isinstance(description, Null)
            described[name] = described.get(name, False) or has
    service = f"<input>/{_name_of(ctx.module) or '<module>'}"
    for name, has in described.items():
        if has:
            continue
        part, key = anchors[name]
        ctx.report(
            key,
            f"Role `{name}` has no `description`: clan warns about it on every machine",
            source=part.source,
            clan_message=f"Missing description for role '{name}' of clanService '{service}'",
        )


@rule("missing-readme", WARNING, None, "`manifest.readme` is empty (clan warns on every machine)")
def missing_readme(ctx: Context) -> None:
    module = ctx.module
    if module.kind == "fragment" or module.is_dynamic():
        return
    if not ctx.generation.has("2025-10-16"):
        return
    manifests = module.values("manifest")
    if not manifests or any(not isinstance(m, AttrSet) or m.dynamic for m in manifests):
        return
    readmes = module.values("manifest", "readme")
    if any(not (isinstance(r, Str) and r.text == "") for r in readmes):
        return
    anchor = None
    for part in module.parts():
        keys = part.effective().key_nodes("manifest")
        if keys:
            anchor = (part, keys[0])
            break
    if anchor is None:
        return
    ctx.report(
        anchor[1],
        "`manifest.readme` is empty: clan warns about it on every machine that uses the service",
        source=anchor[0].source,
        clan_message=f"Missing manifest.readme for clanService '<input>/{_name_of(module) or '<module>'}'",
    )
