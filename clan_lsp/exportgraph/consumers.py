"""Consumers: `clanLib.selectExports` calls, their predicates and what is read from the result.

A predicate is evaluated here, statically, against one scope at a time, in three-valued
logic: True, False, or UNKNOWN. It understands `==`, `!=`, `&&`, `||`, `!`, `->`, string
literals and interpolation, `if`, the scope's four fields (`scope.serviceName` or a
`{ serviceName, ... }:` pattern), the consumer's own `machine.name`, `instanceName` and
`config.manifest.name`, let-bound names, and `lib.hasPrefix`/`hasSuffix`/`hasInfix`/`elem`
(also under `lib.strings`, `lib.lists` and `builtins`). Anything else is UNKNOWN.

The result is traced through let bindings, `lib.mapAttrs`/`mapAttrsToList`/`concatMapAttrs`/
`filterAttrs`/`foldlAttrs`, `lib.attrValues` and then `map`/`concatMap`/`filter`/`forEach`/
`foldl'`, to the selects `value.<interface>.<field>`. A use that cannot be followed makes
the reads incomplete (unknown), never wrong.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..model import SourceFile
from ..model.scope import binder_of
from ..model.values import dotted_name
from ..syntax import Node
from ..syntax.parse import ancestors, unfold_application

UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()
SCOPE_FIELDS = ("serviceName", "instanceName", "roleName", "machineName")
MAX_DEPTH = 40


@dataclass
class Read:
    interface: str
    field: str | None  # None: the whole interface value is used
    node: Node  # the interface's (or field's) name in the select
    guarded: bool = False  # `or` default or `?` check: absence is handled
    interface_node: Node | None = None  # the interface's name, when it is written in the same select


@dataclass
class ConsumerSite:
    """One `selectExports` call in a service module's file."""

    # weakly: the sites live in their file's derived facts (a cycle through them kept every
    # version of the file for the collector); a graph's Consumer holds the file
    source_ref: Callable[[], SourceFile]
    call: Node  # the whole call
    callee: Node
    predicate: Node | None
    where: str  # "perInstance", "perMachine" or "service"
    role: str | None
    context_function: Node | None  # the perInstance/perMachine function
    reads: list[Read] = field(default_factory=list)
    reads_complete: bool = True

    @property
    def source(self) -> SourceFile:
        return self.source_ref()  # type: ignore[return-value]  # alive: the file holds its sites


@dataclass
class Context:
    """Who consumes: the values the consumer's own arguments have at one evaluation."""

    service: str | None  # the consumer's manifest.name
    instance: str | None = None
    machine: str | None = None
    role: str | None = None


# ---------------------------------------------------------------- finding the calls


def _trail(chain: list[Node]) -> list[tuple[str, Node]]:
    """Attribute names on the way down (binding attrpaths), each with its binding's value node."""
    names: list[tuple[str, Node]] = []
    for node in chain:
        if node.type != "binding":
            continue
        path = node.child_by_field_name("attrpath")
        value = node.child_by_field_name("expression")
        if path is None or value is None:
            continue
        for attr in path.named_children:
            text = attr.text.decode() if attr.text else ""
            if attr.type in ("string_expression",):
                text = text.strip('"')
            names.append((text, value))
    return names


def _inner(node: Node) -> Node | None:
    """The expression inside parentheses (comments aside)."""
    inner = [c for c in node.named_children if c.type != "comment"]
    return inner[0] if inner else None


def _function_value(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_child_count:
        node = _inner(node)
    return node if node is not None and node.type == "function_expression" else None


def consumer_sites(source: SourceFile) -> list[ConsumerSite]:
    """The selectExports calls of a file: read once per version of it (the graph is rebuilt
    on every keystroke in a small clan, and the other modules' files did not change)."""
    return source.derived("consumer sites", lambda: list(_consumer_sites(source)))


def _consumer_sites(source: SourceFile) -> Iterator[ConsumerSite]:
    root = source.tree.root
    text = source.text
    for call in source.tree.index.calls_ending((b"selectExports",)):  # not every call's callee
        callee = dotted_name(call.callee, text)
        if not callee or callee[-1] != "selectExports":
            continue
        chain = ancestors(root, call.node) or []
        trail = _trail(chain)
        names = [n for n, _ in trail]
        where, role, function = "service", None, None
        for position in range(len(names) - 1, -1, -1):
            if names[position] == "perInstance" and position >= 2 and names[position - 2] == "roles":
                where, role, function = "perInstance", names[position - 1], _function_value(trail[position][1])
                break
            if names[position] == "perMachine":
                where, function = "perMachine", _function_value(trail[position][1])
                break
        site = ConsumerSite(weakref.ref(source), call.node, call.callee, call.args[0] if call.args else None, where, role, function)
        if len(call.args) != 2:
            site.reads_complete = False
        else:
            _trace_set(site, call.node, 0)
        yield site


# ---------------------------------------------------------------- the predicate


class Evaluator:
    def __init__(self, site: ConsumerSite, context: Context, module_functions: set[int]):
        self.site = site
        self.context = context
        self.module_functions = module_functions
        self.text = site.source.text
        self.root = site.source.tree.root
        self._free: dict[int, Any] = {}

    def predicate(self) -> tuple[Node, Node, list[str] | None, str | None] | None:
        """(function node, body, pattern field names, parameter name) of the predicate."""
        node = self.site.predicate
        for _ in range(MAX_DEPTH):
            if node is None:
                return None
            if node.type == "parenthesized_expression" and node.named_child_count:
                node = _inner(node)
                continue
            if node.type == "variable_expression":
                node = self._bound_expression(node)
                continue
            break
        if node is None or node.type != "function_expression":
            return None
        body = node.child_by_field_name("body")
        formals = node.child_by_field_name("formals")
        universal = node.child_by_field_name("universal")
        fields = None
        if formals is not None:
            fields = []
            for formal in formals.named_children:
                name = formal.child_by_field_name("name") if formal.type == "formal" else None
                if name is not None and name.text:
                    fields.append(name.text.decode())
        param = universal.text.decode() if universal is not None and universal.text else None
        if body is None:
            return None
        return node, body, fields, param

    def matches(self, scope: dict[str, str]) -> Any:
        if not hasattr(self, "_predicate"):
            self._predicate = self.predicate()
        found = self._predicate
        if found is None:
            return UNKNOWN
        function, body, fields, param = found
        env: dict[str, Any] = {}
        if param is not None:
            env[param] = dict(scope)
        for name in fields or ():
            env[name] = scope.get(name, UNKNOWN)
        result = self.eval(body, env, 0)
        return result if isinstance(result, bool) else UNKNOWN

    # -- expressions

    def eval(self, node: Node | None, env: dict[str, Any], depth: int) -> Any:
        if node is None or depth > MAX_DEPTH:
            return UNKNOWN
        kind = node.type
        if kind == "parenthesized_expression":
            inner = [c for c in node.named_children if c.type != "comment"]
            return self.eval(inner[0], env, depth + 1) if inner else UNKNOWN
        if kind in ("string_expression", "indented_string_expression"):
            parts = []
            for child in node.named_children:
                if child.type == "string_fragment":
                    parts.append(child.text.decode())
                elif child.type == "escape_sequence":
                    parts.append(child.text.decode()[-1:])
                elif child.type == "interpolation":
                    inner = [c for c in child.named_children if c.type != "comment"]
                    value = self.eval(inner[0], env, depth + 1) if inner else UNKNOWN
                    if not isinstance(value, str):
                        return UNKNOWN
                    parts.append(value)
            return "".join(parts) if kind == "string_expression" else UNKNOWN
        if kind == "variable_expression":
            name = node.text.decode()
            if name in env:
                return env[name]
            if name in ("true", "false"):
                return name == "true"
            if name == "null":
                return None
            return self._free_variable(node, depth)
        if kind == "select_expression":
            base = self.eval(node.child_by_field_name("expression"), env, depth + 1)
            path = node.child_by_field_name("attrpath")
            default = node.child_by_field_name("default")
            if path is None:
                return UNKNOWN
            for attr in path.named_children:
                name = attr.text.decode() if attr.type == "identifier" and attr.text else None
                if not isinstance(base, dict) or name is None:
                    return UNKNOWN
                if name not in base:
                    return self.eval(default, env, depth + 1) if default is not None else UNKNOWN
                base = base[name]
            return base
        if kind == "unary_expression":
            operator = node.child_by_field_name("operator")
            value = self.eval(node.child_by_field_name("argument"), env, depth + 1)
            if operator is not None and operator.text == b"!" and isinstance(value, bool):
                return not value
            return UNKNOWN
        if kind == "binary_expression":
            return self._binary(node, env, depth)
        if kind == "if_expression":
            condition = self.eval(node.child_by_field_name("condition"), env, depth + 1)
            if isinstance(condition, bool):
                return self.eval(node.child_by_field_name("consequence" if condition else "alternative"), env, depth + 1)
            return UNKNOWN
        if kind == "list_expression":
            return [self.eval(c, env, depth + 1) for c in node.named_children if c.type != "comment"]
        if kind == "apply_expression":
            return self._apply(node, env, depth)
        return UNKNOWN

    def _binary(self, node: Node, env: dict[str, Any], depth: int) -> Any:
        operator = node.child_by_field_name("operator")
        op = operator.text.decode() if operator is not None and operator.text else ""
        left = self.eval(node.child_by_field_name("left"), env, depth + 1)
        if op in ("&&", "||", "->"):
            if op == "&&" and left is False:
                return False
            if op == "||" and left is True:
                return True
            if op == "->" and left is False:
                return True
            right = self.eval(node.child_by_field_name("right"), env, depth + 1)
            if op == "&&":
                return False if right is False else (True if left is True and right is True else UNKNOWN)
            if op == "||":
                return True if right is True else (False if left is False and right is False else UNKNOWN)
            return True if right is True else (False if left is True and right is False else UNKNOWN)
        right = self.eval(node.child_by_field_name("right"), env, depth + 1)
        if left is UNKNOWN or right is UNKNOWN or _has_unknown(left) or _has_unknown(right):
            return UNKNOWN
        if op == "==":
            return left == right
        if op == "!=":
            return left != right
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN

    def _apply(self, node: Node, env: dict[str, Any], depth: int) -> Any:
        function, args = unfold_application(node)
        callee = dotted_name(function, self.text)
        name = callee[-1] if callee else ""
        if not callee or callee[0] not in ("lib", "builtins") or len(args) != 2:
            return UNKNOWN
        first, second = (self.eval(a, env, depth + 1) for a in args)
        if name in ("hasPrefix", "hasSuffix", "hasInfix") and isinstance(first, str) and isinstance(second, str):
            return {"hasPrefix": second.startswith, "hasSuffix": second.endswith, "hasInfix": second.__contains__}[name](first)
        if name == "elem" and isinstance(second, list) and not _has_unknown(second) and first is not UNKNOWN:
            return first in second
        return UNKNOWN

    # -- names bound outside the predicate

    def _bound_expression(self, variable: Node) -> Node | None:
        scope = binder_of(variable, self.text, self.root)
        if scope is None or scope.owner.type not in ("let_expression", "rec_attrset_expression"):
            return None
        binding = scope.binder.parent.parent if scope.binder.parent is not None else None
        if binding is None or binding.type != "binding":
            return None
        path = binding.child_by_field_name("attrpath")
        if path is None or len(path.named_children) != 1:
            return None
        return binding.child_by_field_name("expression")

    def _free_variable(self, variable: Node, depth: int) -> Any:
        key = variable.start_byte
        if key in self._free:
            return self._free[key]
        self._free[key] = UNKNOWN  # a name defined by itself stays unknown
        value = self._resolve(variable, depth)
        self._free[key] = value
        return value

    def _resolve(self, variable: Node, depth: int) -> Any:
        name = variable.text.decode()
        scope = binder_of(variable, self.text, self.root)
        if scope is None:
            return UNKNOWN
        owner = scope.owner
        if owner.type == "function_expression":
            context = self.context
            if self.site.context_function is not None and owner.id == self.site.context_function.id:
                if name == "instanceName" and self.site.where == "perInstance":
                    return context.instance if context.instance is not None else UNKNOWN
                if name == "machine":
                    return {"name": context.machine if context.machine is not None else UNKNOWN}
                return UNKNOWN
            if owner.id in self.module_functions:
                service = context.service if context.service is not None else UNKNOWN
                if name == "config":
                    return {"manifest": {"name": service}}
                if scope.binder.type == "identifier" and owner.child_by_field_name("universal") is not None and _id(owner.child_by_field_name("universal")) == scope.binder.id:
                    return {"config": {"manifest": {"name": service}}}
            return UNKNOWN
        expression = self._bound_expression(variable)
        return self.eval(expression, {}, depth + 1) if expression is not None else UNKNOWN


def _id(node: Node | None) -> int | None:
    return node.id if node is not None else None


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def module_functions(source: SourceFile) -> set[int]:
    """The file's outer functions (`{ config, lib, ... }:` and importApply wrappers)."""
    found: set[int] = set()
    node = source.tree.root
    for _ in range(6):
        inner = [c for c in node.named_children if c.type != "comment"] if node is not None else []
        if node is None or not inner:
            break
        if node.type == "function_expression":
            found.add(node.id)
            node = node.child_by_field_name("body")
            continue
        if node.type in ("source_code", "parenthesized_expression"):
            node = inner[0]
            continue
        break
    return found


# ---------------------------------------------------------------- reads


_ATTRS_FUNCTIONS = {"mapAttrs": 1, "mapAttrsToList": 1, "concatMapAttrs": 1, "filterAttrs": 1, "mapAttrs'": 1, "foldlAttrs": 2}
_LIST_FUNCTIONS = {"map": 0, "concatMap": 0, "filter": 0, "forEach": 0, "foldl'": 1, "foldl": 1, "foldr": 0, "any": 0, "all": 0, "partition": 0}
_VALUE_FREE = {"attrNames", "length", "isAttrs", "isList", "null", "count"}


def _outer_call(node: Node) -> tuple[Node, tuple[str, ...], list[Node], int] | None:
    """When node is an argument: (the whole call, callee name, arguments, node's position)."""
    parent = node.parent
    if parent is None or parent.type != "apply_expression" or parent.child_by_field_name("argument") is None:
        return None
    if _id(parent.child_by_field_name("argument")) != node.id:
        return None
    outer = parent
    while outer.parent is not None and outer.parent.type == "apply_expression" and _id(outer.parent.child_by_field_name("function")) == outer.id:
        outer = outer.parent
    function, args = unfold_application(outer)
    if function is None:
        return None
    text = function.text or b""
    callee = tuple(text.decode().split(".")) if function.type in ("variable_expression", "select_expression") else ()
    position = next((i for i, a in enumerate(args) if a.id == node.id), -1)
    return outer, callee, args, position


def _up(node: Node) -> Node:
    """Through parentheses."""
    while node.parent is not None and node.parent.type == "parenthesized_expression":
        node = node.parent
    return node


def _let_references(site: ConsumerSite, node: Node) -> list[Node] | None:
    """When node is the value of a let (or rec) binding `x = node;`: the uses of x. None otherwise."""
    binding = node.parent
    if binding is None or binding.type != "binding" or binding.child_by_field_name("expression") is None:
        return None
    if _id(binding.child_by_field_name("expression")) != node.id:
        return None
    holder = binding.parent.parent if binding.parent is not None else None
    if holder is None or holder.type not in ("let_expression", "rec_attrset_expression"):
        return None
    path = binding.child_by_field_name("attrpath")
    if path is None or len(path.named_children) != 1 or path.named_children[0].type != "identifier":
        return None
    binder = path.named_children[0]
    text = site.source.text
    uses = []
    for variable in site.source.tree.index.variables_in(holder):
        if variable.text != binder.text:
            continue
        scope = binder_of(variable, text, site.source.tree.root)
        if scope is not None and scope.binder.id == binder.id:
            uses.append(variable)
    return uses


def _lambda_params(site: ConsumerSite, node: Node | None, count: int) -> tuple[Node, list[Node]] | None:
    """(body, parameter identifiers) of a function taking `count` plain parameters, through a let name."""
    for _ in range(MAX_DEPTH):
        if node is None:
            return None
        if node.type == "parenthesized_expression" and node.named_child_count:
            node = _inner(node)
            continue
        if node.type == "variable_expression":
            scope = binder_of(node, site.source.text, site.source.tree.root)
            if scope is None or scope.owner.type not in ("let_expression", "rec_attrset_expression"):
                return None
            binding = scope.binder.parent.parent if scope.binder.parent is not None else None
            node = binding.child_by_field_name("expression") if binding is not None and binding.type == "binding" else None
            continue
        break
    params: list[Node] = []
    while node is not None and node.type == "function_expression" and len(params) < count:
        universal = node.child_by_field_name("universal")
        if universal is None:
            return None
        params.append(universal)
        node = node.child_by_field_name("body")
    if len(params) != count or node is None:
        return None
    return node, params


def _uses_of(site: ConsumerSite, body: Node, param: Node) -> list[Node]:
    text = site.source.text
    found = []
    for variable in site.source.tree.index.variables_in(body):
        if variable.text == param.text:
            scope = binder_of(variable, text, site.source.tree.root)
            if scope is not None and scope.binder.id == param.id:
                found.append(variable)
    return found


def _trace_set(site: ConsumerSite, node: Node, depth: int) -> None:
    """node evaluates to an attrset of exports (scope key -> value)."""
    node = _through_lets(site, node, depth, _trace_set)
    if node is None:
        return
    parent = node.parent
    if parent is not None and parent.type == "select_expression" and _id(parent.child_by_field_name("expression")) == node.id:
        path = parent.child_by_field_name("attrpath")
        attrs = path.named_children if path is not None else []
        if len(attrs) >= 2 and attrs[1].type == "identifier":
            field_name = attrs[2].text.decode() if len(attrs) >= 3 and attrs[2].type == "identifier" else None
            site.reads.append(Read(attrs[1].text.decode(), field_name, attrs[2] if field_name else attrs[1], parent.child_by_field_name("default") is not None))
            return
        site.reads_complete = False
        return
    call = _outer_call(node)
    if call is None:
        site.reads_complete = False
        return
    outer, callee, args, position = call
    name = callee[-1] if callee else ""
    if name in _VALUE_FREE:
        return
    if name == "attrValues" and position == 0:
        _trace_list(site, outer, depth + 1)
        return
    if name in _ATTRS_FUNCTIONS and position == len(args) - 1 and len(args) >= 2:
        if not _trace_last_parameter(site, args[0], 3 if name == "foldlAttrs" else 2, depth):
            return
        if name == "filterAttrs":
            _trace_set(site, outer, depth + 1)
        return
    site.reads_complete = False


def _through_lets(site: ConsumerSite, node: Node, depth: int, trace) -> Node | None:
    """The node to trace on, or None when done: too deep (unknown), or a let-bound name whose
    uses `trace` has followed instead."""
    if depth > MAX_DEPTH:
        site.reads_complete = False
        return None
    node = _up(node)
    uses = _let_references(site, node)
    if uses is None:
        return node
    for use in uses:
        trace(site, use, depth + 1)
    return None


def _trace_last_parameter(site: ConsumerSite, function: Node, count: int, depth: int) -> bool:
    """`(name: value: ...)` given to mapAttrs, map and the like: trace what the body reads from
    its last parameter, which is one export value. False when the function is not a literal one."""
    found = _lambda_params(site, function, count)
    if found is None:
        site.reads_complete = False
        return False
    body, params = found
    for use in _uses_of(site, body, params[-1]):
        _trace_value(site, use, depth + 1)
    return True


def _trace_list(site: ConsumerSite, node: Node, depth: int) -> None:
    """node evaluates to a list of export values."""
    node = _through_lets(site, node, depth, _trace_list)
    if node is None:
        return
    call = _outer_call(node)
    if call is None:
        site.reads_complete = False
        return
    outer, callee, args, position = call
    name = callee[-1] if callee else ""
    if name in ("length", "isList"):
        return
    if name in ("head", "last") and position == 0:
        _trace_value(site, outer, depth + 1)
        return
    if name in _LIST_FUNCTIONS and position == len(args) - 1 and len(args) >= 2 or (name == "forEach" and position == 0 and len(args) == 2):
        function = args[1] if name == "forEach" else args[0]
        if not _trace_last_parameter(site, function, 2 if _LIST_FUNCTIONS.get(name) == 1 else 1, depth):
            return
        if name == "filter":
            _trace_list(site, outer, depth + 1)
        return
    site.reads_complete = False


def _trace_value(site: ConsumerSite, node: Node, depth: int) -> None:
    """node evaluates to one export value (interface name -> interface value)."""
    node = _through_lets(site, node, depth, _trace_value)
    if node is None:
        return
    parent = node.parent
    if parent is None:
        site.reads_complete = False
        return
    if parent.type == "select_expression" and _id(parent.child_by_field_name("expression")) == node.id:
        path = parent.child_by_field_name("attrpath")
        attrs = path.named_children if path is not None else []
        if not attrs or attrs[0].type != "identifier":
            site.reads_complete = False
            return
        guarded = parent.child_by_field_name("default") is not None
        if len(attrs) >= 2 and attrs[1].type == "identifier":
            site.reads.append(Read(attrs[0].text.decode(), attrs[1].text.decode(), attrs[1], guarded, attrs[0]))
            return
        site.reads.append(Read(attrs[0].text.decode(), None, attrs[0], guarded))
        _trace_interface(site, parent, attrs[0].text.decode(), depth + 1)
        return
    if parent.type == "has_attr_expression":
        return  # `value ? peer`: a check, not a read
    if parent.type == "binary_expression":
        operator = parent.child_by_field_name("operator")
        if operator is not None and operator.text in (b"==", b"!="):
            return
    site.reads_complete = False


def _trace_interface(site: ConsumerSite, node: Node, interface: str, depth: int) -> None:
    """node evaluates to one interface's value: find its fields."""
    if depth > MAX_DEPTH:
        site.reads_complete = False
        return
    node = _up(node)
    uses = _let_references(site, node)
    if uses is not None:
        for use in uses:
            _trace_interface(site, use, interface, depth + 1)
        return
    parent = node.parent
    if parent is not None and parent.type == "select_expression" and _id(parent.child_by_field_name("expression")) == node.id:
        path = parent.child_by_field_name("attrpath")
        attrs = path.named_children if path is not None else []
        if attrs and attrs[0].type == "identifier":
            site.reads.append(Read(interface, attrs[0].text.decode(), attrs[0], parent.child_by_field_name("default") is not None))
            return
    if parent is not None and parent.type in ("has_attr_expression",):
        return
    if parent is not None and parent.type == "binary_expression":
        operator = parent.child_by_field_name("operator")
        if operator is not None and operator.text in (b"==", b"!="):
            return
    site.reads_complete = False
