"""Where is the cursor, in clan.service terms?

Completion, hover and navigation all start here. From a byte offset we walk up
the (error-tolerant) syntax tree to the service module's root and collect steps:
the attribute keys we are under, function bodies and argument sets, call
arguments (`mkExports {...}`). Then the steps are read against the spec into a
`Place`: "keys of roles.server", "arguments of perInstance", "fields of the peer
export", ... Wrappers that do not change structure (`lib.mkIf`, `mkMerge`, `//`,
parentheses, `let ... in` bodies) are transparent.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import AttrSet, Lambda, ServiceModule, SourceFile, Value, dotted_name
from ..model.service import peel_functions
from ..spec.schema import TRANSPARENT_WRAPPERS
from ..syntax import Node
from ..syntax.parse import ancestors, unfold_application
from ..model.scope import Scope, binder_of  # noqa: F401  (re-exported for ide modules)

# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class Key:
    name: str | None  # None: an interpolated key
    node: Node | None = None


@dataclass(frozen=True)
class Body:
    """Inside the body of a function."""

    function: Node


@dataclass(frozen=True)
class Formals:
    function: Node


@dataclass(frozen=True)
class Arg:
    callee: str
    index: int
    call: Node


@dataclass(frozen=True)
class Element:
    """Inside a list."""

    list_node: Node | None


@dataclass(frozen=True)
class Opaque:
    """Somewhere the path no longer names module structure (a let binding, a condition)."""

    node: Node


Step = Key | Body | Formals | Arg | Element | Opaque


def _callee_and_index(apply: Node, argument: Node, text: bytes) -> tuple[str, int]:
    """For an argument of a curried application, the callee's last name and the argument's index."""
    function, args = unfold_application(apply)
    callee = dotted_name(function, text)
    index = next((i for i, a in enumerate(args) if a.id == argument.id), -1)
    return (callee[-1] if callee else ""), index


def steps_to(node: Node | None, root: Node | None, text: bytes, offset: int) -> tuple[list[Step], bool]:
    """Steps from `root` down to `node`; the flag says the node is below the root."""
    if node is None or root is None:
        return [], root is None
    chain = ancestors(root, node)
    if chain is None:
        return [], False
    steps: list[Step] = []
    for depth in range(len(chain) - 1, 0, -1):
        child, current = chain[depth], chain[depth - 1]
        kind = current.type
        if kind == "binding":
            path = current.child_by_field_name("attrpath")
            in_let = depth >= 3 and chain[depth - 3].type == "let_expression"
            if path is None:
                pass
            elif in_let:
                steps.append(Opaque(current))
            else:
                inside_key = path.id == child.id  # typing the key itself: only segments before the cursor
                keys = [
                    _key(a, text)
                    for a in path.named_children
                    if a.type != "comment" and (not inside_key or a.end_byte < offset)
                ]
                steps.extend(reversed(keys))
        elif kind == "function_expression":
            formals = current.child_by_field_name("formals")
            if formals is not None and child.id == formals.id:
                steps.append(Formals(current))
            else:
                steps.append(Body(current))
        elif kind == "apply_expression":
            argument = current.child_by_field_name("argument")
            if argument is not None and argument.id == child.id:
                callee, index = _callee_and_index(current, child, text)
                if callee not in TRANSPARENT_WRAPPERS and callee != "mkMerge":
                    steps.append(Arg(callee, index, current))
        elif kind == "list_expression":
            parent = chain[depth - 2] if depth >= 2 else None
            is_merge = False
            if parent is not None and parent.type == "apply_expression":
                callee = dotted_name(parent.child_by_field_name("function"), text)
                is_merge = bool(callee) and callee[-1] == "mkMerge"
            if not is_merge:
                steps.append(Element(current))
        elif kind == "let_expression":
            body = current.child_by_field_name("body")
            if body is None or child.id != body.id:
                steps.append(Opaque(current))
        elif kind in ("if_expression", "assert_expression", "with_expression"):
            condition = current.child_by_field_name("condition") or current.child_by_field_name("environment")
            if condition is not None and child.id == condition.id:
                steps.append(Opaque(current))
        elif kind == "binary_expression":
            operator = current.child_by_field_name("operator")
            if operator is None or text[operator.start_byte : operator.end_byte] != b"//":
                steps.append(Opaque(current))
    steps.reverse()
    return steps, True


def _key(attr: Node, text: bytes) -> Key:
    if attr.type == "identifier":
        return Key(text[attr.start_byte : attr.end_byte].decode("utf-8", "replace"), attr)
    if attr.type == "string_expression":
        inner = [c for c in attr.named_children if c.type == "string_fragment"]
        if len(inner) == len(attr.named_children):
            return Key("".join(text[c.start_byte : c.end_byte].decode("utf-8", "replace") for c in inner), attr)
    return Key(None, attr)


# ---------------------------------------------------------------- places


@dataclass
class Site:
    """The perInstance/perMachine function (or selectExports predicate) the cursor is in."""

    kind: str  # "perInstance" | "perMachine" | "interface" | "module"
    function: Node
    role: str | None = None


@dataclass
class Place:
    """What the cursor position means."""

    kind: str  # see classify()
    path: tuple[str, ...] = ()  # the module-relative attribute path (known parts)
    role: str | None = None
    interface: str | None = None
    site: Site | None = None
    predicate: Node | None = None  # the selectExports predicate function we are in
    scope_key: str | None = None


def classify(steps: list[Step]) -> Place:
    """Read steps against the clan.service structure.

    Place kinds: top, manifest, manifest.exports, manifest.constraints, roles, role,
    interface, result, formals, export-value, interface-fields, categories-list,
    interfaces-list, exports-attr, service-exports, opaque.
    """
    state = "top"
    path: list[str] = []
    role: str | None = None
    interface: str | None = None
    site: Site | None = None
    predicate: Node | None = None
    pending_site: tuple[str, str | None] | None = None
    awaiting_predicate = False
    for step in steps:
        # `selectExports (scope: ...)`: the function right after the call's first argument
        if awaiting_predicate and isinstance(step, Body):
            predicate = step.function
        awaiting_predicate = isinstance(step, Arg) and step.callee == "selectExports" and step.index == 0
        if isinstance(step, Key):
            if step.name is None:
                state = "opaque" if state not in ("service-exports", "exports-attr") else state
            path.append(step.name or "<dynamic>")
        if state == "opaque":
            if isinstance(step, Body) and pending_site is not None:
                pending_site = None
            continue
        name = step.name if isinstance(step, Key) else None
        if state == "top":
            if name == "manifest":
                state = "manifest"
            elif name == "roles":
                state = "roles"
            elif name == "perMachine":
                state, pending_site = "per-machine", ("perMachine", None)
            elif name == "exports":
                state = "service-exports"
            elif name == "config":
                state = "top"
                path.pop()
            else:
                state = "opaque"
        elif state == "manifest":
            if name == "exports":
                state = "manifest.exports"
            elif name == "constraints":
                state = "manifest.constraints"
            elif name == "categories":
                state = "categories"
            else:
                state = "opaque"
        elif state == "manifest.exports":
            state = "interfaces" if name in ("out", "inputs") else "opaque"
        elif state in ("categories", "interfaces"):
            state = f"{state}-list" if isinstance(step, Element) else "opaque"
        elif state == "roles":
            if name is not None:
                state, role = "role", name
            else:
                state = "opaque"
        elif state == "role":
            if name == "perInstance":
                state, pending_site = "per-instance", ("perInstance", role)
            elif name == "interface":
                state, pending_site = "interface", ("interface", role)
            else:
                state = "opaque"
        elif state in ("per-instance", "per-machine", "interface"):
            if isinstance(step, Formals):
                state = "formals"
                site = Site(pending_site[0] if pending_site else "perInstance", step.function, role)
            elif isinstance(step, Body):
                site = Site(pending_site[0] if pending_site else "perInstance", step.function, role)
                state = "result" if state != "interface" else "interface-body"
            elif state != "interface" and name is not None:
                state = _result_key(name)
            else:
                state = "opaque"
        elif state == "result":
            state = _result_key(name) if name is not None else "opaque"
        elif state == "exports-attr":
            if isinstance(step, Arg) and step.callee == "mkExports" and step.index == 0:
                state = "export-value"
            elif name is not None:
                state = "export-value"
            else:
                state = "opaque"
        elif state == "service-exports":
            state = "export-value" if isinstance(step, Key) else "opaque"
        elif state == "export-value":
            if name is not None:
                state, interface = "interface-fields", name
            else:
                state = "opaque"
        else:
            state = "opaque"
    if state in ("per-instance", "per-machine"):
        state = "result"  # `perInstance = { ... }` written as a plain attrset
    return Place(state, tuple(path), role, interface, site, predicate)


def options_at(place: "Place") -> tuple[tuple, str] | None:
    """The spec options that are the keys at a place, and their path prefix."""
    from ..spec import schema

    if place.kind == "result":
        prefix = f"roles.{place.role}.perInstance" if place.site and place.site.kind == "perInstance" and place.role else "perMachine"
        return schema.RESULT, prefix
    table = {
        "top": (schema.TOP_LEVEL, ""),
        "manifest": (schema.MANIFEST, "manifest"),
        "manifest.exports": (schema.MANIFEST_EXPORTS, "manifest.exports"),
        "manifest.constraints": (schema.MANIFEST_CONSTRAINTS, "manifest.constraints"),
        "role": (schema.ROLE, f"roles.{place.role}"),
    }
    if place.kind in table:
        return table[place.kind]
    if place.kind == "opaque" and place.path[:1] == ("manifest",):
        # deeper in the manifest: nested option types (`constraints.roles.<role>.`)
        nested = schema.options_under(schema.MANIFEST, place.path[1:])
        if nested:
            return nested, ".".join(place.path)
    return None


def site_arguments(kind: str) -> tuple:
    """What clan passes to a function of this kind."""
    from ..spec import schema

    if kind == "perInstance":
        return schema.PER_INSTANCE_ARGS
    if kind == "perMachine":
        return schema.PER_MACHINE_ARGS
    if kind == "interface":
        return tuple(a for a in schema.MODULE_ARGS if a.name in ("lib", "config", "options", "meta"))
    return schema.MODULE_ARGS


def _result_key(name: str) -> str:
    if name == "exports":
        return "exports-attr"
    return "opaque"


# ---------------------------------------------------------------- roots


def module_root(source: SourceFile, modules: list[ServiceModule], offset: int) -> tuple[ServiceModule | None, Node | None]:
    """The service module whose body holds the offset, or the file's own top-level set."""
    for module in modules:
        for part in module.parts():  # a split-out role file is a part of its module
            if part.source.path != source.path:
                continue
            node = part.body.node
            if node is not None and node.start_byte <= offset <= node.end_byte:
                return module, node
    if modules:
        return None, None
    body, _, _ = peel_functions(source.value)
    if isinstance(body, AttrSet) and body.node is not None and body.node.start_byte <= offset <= body.node.end_byte:
        return None, body.node
    # A half-typed file that does not parse into a module yet: the file itself is the
    # root, and leading module-function bodies are skipped (see strip_module_function).
    if b"clan.service" in source.text or b"manifest" in source.text or b"roles" in source.text:
        return None, source.tree.root
    return None, None


def strip_module_function(steps: list[Step], root: Node) -> list[Step]:
    """With the whole file as root, `{ lib, ... }: { ... }` adds Body steps before the module."""
    if root.type != "source_code":
        return steps
    index = 0
    while index < len(steps) and isinstance(steps[index], Body):
        index += 1
    return steps[index:]


def node_at(source: SourceFile, offset: int, prefer_right: bool = False) -> Node:
    """The smallest node touching the offset; prefers the token that ends at it (typing)."""
    root = source.tree.root
    offset = max(0, min(offset, len(source.text)))
    if prefer_right and offset < len(source.text):
        node = root.descendant_for_byte_range(offset, offset + 1)
        if node is not None and node.start_byte == offset:
            return node
    if offset > 0:
        node = root.descendant_for_byte_range(offset - 1, offset)
        if node is not None:
            return node
    return root.descendant_for_byte_range(offset, offset) or root


def lambda_value(module: ServiceModule | None, function: Node) -> Lambda | None:
    """The model's Lambda for a function node, searching the module's parts."""
    if module is None:
        return None
    for part in module.parts():
        found = _find_lambda(part.body, function, 0)
        if found is not None:
            return found
    return None


def _find_lambda(value: Value | None, target: Node, depth: int) -> Lambda | None:
    if value is None or depth > 12:
        return None
    if isinstance(value, Lambda):
        if value.node is not None and value.node.id == target.id:
            return value
        return _find_lambda(value.body, target, depth + 1)
    if isinstance(value, AttrSet):
        # merged sets may hold definitions from elsewhere: search every definition
        for name in value.names():
            for definition in value.defs(name):
                thunk_node = definition.thunk.node
                if thunk_node is not None and not (thunk_node.start_byte <= target.start_byte and target.end_byte <= thunk_node.end_byte):
                    continue
                found = _find_lambda(value.get(name), target, depth + 1)
                if found is not None:
                    return found
    return None
