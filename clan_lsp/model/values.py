"""A lazy, partial reading of Nix values from the syntax tree.

Nix writes one attribute set in many ways (dotted paths, nested sets, `inherit`,
`let`, `rec`, `//`, `lib.mkMerge`, `lib.mkIf`, ...). This module reads them all
into one shape. Whatever cannot be known without evaluating (a call, a variable
bound outside the file, an `if`) becomes `Unknown`: unknown is never wrong.

Everything is lazy: an attribute's value is read only when asked for, so a huge
or deeply nested file costs only what the checks look at, and depth is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ..spec.schema import TRANSPARENT_WRAPPERS
from ..syntax import Node
from ..syntax.parse import binding_set_of, unfold_application

MAX_DEPTH = 120  # forcing deeper than this gives Unknown (no RecursionError on hostile input)
_SCAN_BELOW = 2  # attribute sets with more definitions than this look names up in a dict (made on the first lookup)


class Value:
    __slots__ = ()  # the values made on every keystroke have slots (AttrSet keeps a dict for its caches)
    node: Node | None

    def describe(self) -> str:
        return "a value"


@dataclass(eq=False, slots=True)
class Unknown(Value):
    node: Node | None = None

    def describe(self) -> str:
        return "a value not known before evaluation"


@dataclass(eq=False, slots=True)
class Str(Value):
    node: Node | None
    text: str | None  # None when interpolated

    def describe(self) -> str:
        return "a string"


@dataclass(eq=False, slots=True)
class Int(Value):
    node: Node | None
    number: int

    def describe(self) -> str:
        return "an integer"


@dataclass(eq=False, slots=True)
class Float(Value):
    node: Node | None

    def describe(self) -> str:
        return "a float"


@dataclass(eq=False, slots=True)
class Bool(Value):
    node: Node | None
    truth: bool

    def describe(self) -> str:
        return "a boolean"


@dataclass(eq=False, slots=True)
class Null(Value):
    node: Node | None

    def describe(self) -> str:
        return "null"


@dataclass(eq=False, slots=True)
class PathValue(Value):
    node: Node | None
    text: str

    def describe(self) -> str:
        return "a path"


@dataclass(eq=False, slots=True)
class ListValue(Value):
    node: Node | None
    thunks: list["Thunk"]

    def items(self) -> Iterator[Value]:
        for thunk in self.thunks:
            yield thunk.force()

    def describe(self) -> str:
        return "a list"


@dataclass(eq=False, slots=True)
class Formal:
    name: str
    node: Node  # the identifier
    has_default: bool


@dataclass(eq=False, slots=True)
class Lambda(Value):
    node: Node | None
    param: str | None  # `x:` or the `@x` of a pattern
    param_node: Node | None
    formals: list[Formal] | None  # None for `x: ...`
    ellipsis: bool
    formals_node: Node | None
    body_thunk: "Thunk"

    @property
    def body(self) -> Value:
        return self.body_thunk.force()

    def formal(self, name: str) -> Formal | None:
        for f in self.formals or ():
            if f.name == name:
                return f
        return None

    def describe(self) -> str:
        return "a function"


@dataclass(eq=False, slots=True)
class Call(Value):
    """A function application we keep apart: `mkExports {...}`, `clanLib.buildScopeKey {...}`."""

    node: Node | None
    callee: tuple[str, ...]  # dotted name as written, () when not a plain name
    callee_node: Node | None
    arg_thunks: list["Thunk"]

    @property
    def name(self) -> str:
        return self.callee[-1] if self.callee else ""

    def arg(self, index: int) -> Value:
        if index < len(self.arg_thunks):
            return self.arg_thunks[index].force()
        return Unknown(None)

    def describe(self) -> str:
        return "a function call"


@dataclass(eq=False, slots=True)
class Definition:
    """One place that defines (part of) an attribute: `a.b.c = v;` defines a with rest (b, c)."""

    name: str
    key_node: Node | None
    rest: tuple[tuple[str | None, Node | None], ...]
    thunk: "Thunk"


@dataclass(eq=False)
class AttrSet(Value):
    node: Node | None
    definitions: list[Definition] = field(default_factory=list)
    dynamic: bool = False  # some keys cannot be named statically

    def _named(self, name: str) -> list[Definition]:
        """The definitions of one name, in order (a list to read, not to change).

        A set of one or two is scanned; a bigger one is grouped by name on its first lookup
        (rules and the export graph look up 300-450 names a keystroke). Readers only ever
        append definitions, so the grouping is rebuilt when the list is another one or has
        grown."""
        definitions = self.definitions
        if len(definitions) <= _SCAN_BELOW:
            return [d for d in definitions if d.name == name]
        cached = self.__dict__.get("_grouped")
        if cached is None or cached[0] is not definitions or cached[1] != len(definitions):
            grouped: dict[str, list[Definition]] = {}
            for d in definitions:
                grouped.setdefault(d.name, []).append(d)
            cached = self.__dict__["_grouped"] = (definitions, len(definitions), grouped)
        return cached[2].get(name, [])

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for d in self.definitions:
            seen.setdefault(d.name, None)
        return list(seen)

    def has(self, name: str) -> bool:
        return bool(self._named(name))

    def defs(self, name: str) -> list[Definition]:
        return list(self._named(name))

    def key_nodes(self, name: str) -> list[Node]:
        return [d.key_node for d in self._named(name) if d.key_node is not None]

    def get(self, name: str) -> Value | None:
        """The value of an attribute, merging all its definitions; None when absent."""
        defs = self._named(name)
        if not defs:
            return None
        if len(defs) == 1 and not defs[0].rest:
            return defs[0].thunk.force()
        # A merge (`a.b = 1; a.c = 2;`) is a new set: made once per name while the
        # definitions stay the same (readers only append), as _named groups them.
        definitions = self.definitions
        cached = self.__dict__.get("_merges")
        if cached is None or cached[0] is not definitions or cached[1] != len(definitions):
            cached = self.__dict__["_merges"] = (definitions, len(definitions), {})
        merges = cached[2]
        if name not in merges:
            merges[name] = self._merge(defs)
        return merges[name]

    @staticmethod
    def _merge(defs: list[Definition]) -> Value:
        merged = AttrSet(defs[0].key_node)
        for d in defs:
            if d.rest:
                (sub_name, sub_node), *more = d.rest
                if sub_name is None:
                    merged.dynamic = True
                    continue
                merged.definitions.append(Definition(sub_name, sub_node, tuple(more), d.thunk))
                continue
            value = d.thunk.force()
            if isinstance(value, AttrSet):
                merged.definitions.extend(value.definitions)
                merged.dynamic |= value.dynamic
            elif len(defs) == 1:
                return value
            else:
                # Defined twice and not as sets: Nix rejects the file before evaluating
                # (duplicate-attribute says so); its value is nothing a rule can judge.
                return Unknown(d.key_node)
        return merged

    def path(self, *names: str) -> Value | None:
        value: Value | None = self
        for name in names:
            if not isinstance(value, AttrSet):
                return None
            value = value.get(name)
        return value

    def describe(self) -> str:
        return "an attribute set"


# ---------------------------------------------------------------- evaluation


class Env:
    """A lexical scope: names bound by let, rec, function formals."""

    __slots__ = ("parent", "bindings", "opaque")

    def __init__(self, parent: "Env | None", bindings: dict[str, "Thunk"] | None = None, opaque: bool = False):
        self.parent = parent
        self.bindings = bindings or {}
        self.opaque = opaque  # function arguments: known names, unknown values

    def lookup(self, name: str) -> "Thunk | None":
        env: Env | None = self
        while env is not None:
            found = env.bindings.get(name)
            if found is not None:
                return found
            env = env.parent
        return None


class Thunk:
    __slots__ = ("node", "env", "reader", "_value", "_busy", "binder")

    def __init__(self, node: Node | None, env: Env, reader: "Reader", value: Value | None = None):
        self.node = node
        self.env = env
        self.reader = reader
        self._value = value
        self._busy = False
        self.binder: Node | None = None  # the identifier that binds this name, for go-to-definition

    def force(self) -> Value:
        if self._value is not None:
            return self._value
        if self._busy or self.node is None:
            return Unknown(self.node)
        self._busy = True
        try:
            value = self.reader.read(self.node, self.env)
        finally:
            self._busy = False
        self._value = value
        return value


def known(value: Value) -> Thunk:
    """A thunk that already holds a value."""
    thunk = Thunk.__new__(Thunk)
    thunk.node = value.node
    thunk.env = None  # type: ignore[assignment]
    thunk.reader = None  # type: ignore[assignment]
    thunk._value = value
    thunk._busy = False
    thunk.binder = None
    return thunk


def _string_content(node: Node, text: bytes) -> str | None:
    """The text of a string literal, or None when it interpolates."""
    if node.type == "string_expression":
        raw = text[node.start_byte : node.end_byte]
        # a plain `"name"` (most keys of a big clan) is its own text: no walk over its children
        if len(raw) >= 2 and raw[:1] == b'"' and raw[-1:] == b'"' and b"\\" not in raw and b"$" not in raw and not node.has_error:
            return raw[1:-1].decode("utf-8", "replace")
    parts = []
    for child in node.named_children:
        if child.type == "interpolation":
            return None
        if child.type == "string_fragment":
            parts.append(text[child.start_byte : child.end_byte].decode("utf-8", "replace"))
        elif child.type == "escape_sequence":
            raw = text[child.start_byte : child.end_byte].decode("utf-8", "replace")
            parts.append({"\\n": "\n", "\\t": "\t", "\\r": "\r"}.get(raw, raw[-1:]))
    if node.type == "indented_string_expression":
        return _dedent("".join(parts))
    return "".join(parts)


def _dedent(s: str) -> str:
    lines = s.split("\n")
    if lines and not lines[0].strip():
        lines = lines[1:]
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(line[cut:] for line in lines)


def dotted_name(node: Node | None, text: bytes) -> tuple[str, ...]:
    """`lib.mkIf` -> ("lib", "mkIf"); a plain variable -> (name,); anything else -> ()."""
    if node is None:
        return ()
    if node.type == "variable_expression":
        return (text[node.start_byte : node.end_byte].decode(),)
    if node.type == "select_expression" and node.child_by_field_name("default") is None:
        base = dotted_name(node.child_by_field_name("expression"), text)
        path = node.child_by_field_name("attrpath")
        if not base or path is None:
            return ()
        names = []
        for attr in path.named_children:
            if attr.type != "identifier":
                return ()
            names.append(text[attr.start_byte : attr.end_byte].decode())
        return base + tuple(names)
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return dotted_name(node.named_children[0], text)
    return ()


class Reader:
    """Reads syntax nodes of one file into Values."""

    def __init__(self, text: bytes):
        self.text = text
        self.depth = 0

    def node_text(self, node: Node) -> str:
        return self.text[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def thunk(self, node: Node | None, env: Env) -> Thunk:
        return Thunk(node, env, self)

    def read(self, node: Node, env: Env) -> Value:
        if self.depth > MAX_DEPTH:
            return Unknown(node)
        self.depth += 1
        try:
            return self._read(node, env)
        finally:
            self.depth -= 1

    def _read(self, node: Node, env: Env) -> Value:
        kind = node.type
        if kind in ("source_code", "parenthesized_expression"):
            inner = node.named_children
            inner = [c for c in inner if c.type != "comment"]
            return self.read(inner[0], env) if inner else Unknown(node)
        if kind in ("attrset_expression", "rec_attrset_expression"):
            return self.attrset(node, env, recursive=kind == "rec_attrset_expression")
        if kind == "let_attrset_expression":
            return Unknown(node)
        if kind in ("string_expression", "indented_string_expression"):
            return Str(node, _string_content(node, self.text))
        if kind == "integer_expression":
            try:
                return Int(node, int(self.node_text(node)))
            except ValueError:
                return Unknown(node)
        if kind == "float_expression":
            return Float(node)
        if kind == "path_expression":
            if b"${" in self.text[node.start_byte : node.end_byte]:  # an interpolation: a path has no escapes
                return Unknown(node)
            return PathValue(node, self.node_text(node))
        if kind == "list_expression":
            return ListValue(node, [self.thunk(c, env) for c in node.named_children if c.type != "comment"])
        if kind == "function_expression":
            return self.function(node, env)
        if kind == "let_expression":
            let_env = Env(env)
            bindings = binding_set_of(node)
            if bindings is not None:
                self._bind(bindings, let_env, let_env)
            body = node.child_by_field_name("body")
            return self.read(body, let_env) if body is not None else Unknown(node)
        if kind == "variable_expression":
            name = self.node_text(node)
            if name == "true" or name == "false":
                if env.lookup(name) is None:
                    return Bool(node, name == "true")
            if name == "null" and env.lookup(name) is None:
                return Null(node)
            found = env.lookup(name)
            return found.force() if found is not None else Unknown(node)
        if kind == "select_expression":
            return self.select(node, env)
        if kind == "apply_expression":
            return self.apply(node, env)
        if kind == "binary_expression":
            return self.binary(node, env)
        if kind == "with_expression":
            body = node.child_by_field_name("body")
            return self.read(body, env) if body is not None else Unknown(node)
        if kind == "assert_expression":
            body = node.child_by_field_name("body")
            return self.read(body, env) if body is not None else Unknown(node)
        if kind == "ERROR":
            return self.error(node, env)
        return Unknown(node)

    # -- pieces

    def function(self, node: Node, env: Env) -> Lambda:
        formals_node = node.child_by_field_name("formals")
        universal = node.child_by_field_name("universal")
        body = node.child_by_field_name("body")
        inner, formals, ellipsis, param = self._arguments(formals_node, universal, env)
        return Lambda(
            node,
            param,
            universal,
            formals,
            ellipsis,
            formals_node,
            self.thunk(body, inner) if body is not None else known(Unknown(node)),
        )

    def _arguments(
        self, formals_node: Node | None, universal: Node | None, env: Env
    ) -> tuple[Env, list[Formal] | None, bool, str | None]:
        """The scope a function's body sees, and its formals, `...` and `@name`."""
        inner = Env(env, opaque=True)
        formals: list[Formal] | None = None
        ellipsis = False
        if formals_node is not None:
            formals = []
            text, bindings = self.text, inner.bindings
            for child in formals_node.named_children:
                kind = child.type
                if kind == "formal":
                    name_node = child.child_by_field_name("name")
                    if name_node is None or name_node.is_missing:
                        continue
                    name = text[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
                    # `a ? x` has more than the name (so may a comment): only then look for a default
                    has_default = child.child_count > 1 and child.child_by_field_name("default") is not None
                    formals.append(Formal(name, name_node, has_default))
                    thunk = Thunk(None, None, None)  # an argument: known name, unknown value
                    thunk.binder = name_node
                    bindings[name] = thunk
                elif kind == "ellipses":
                    ellipsis = True
        param = self.node_text(universal) if universal is not None else None
        if param is not None:
            thunk = Thunk(None, None, None)
            thunk.binder = universal
            inner.bindings[param] = thunk
        return inner, formals, ellipsis, param

    def error(self, node: Node, env: Env) -> Value:
        """An ERROR node: tree-sitter keeps the complete bindings of a broken set inside it.

        `{ lib, ... }: { a = 1; b = <broken>` often becomes one ERROR holding the formals,
        `:`, `{`, the complete bindings and the broken tokens: read it as the function and
        set it was meant to be, with the bindings it kept (and dynamic: some are missing).
        """
        children = [c for c in node.children if c.type != "comment"]
        if len(children) >= 2 and children[0].type == "formals" and children[1].type == ":":
            inner, formals, ellipsis, param = self._arguments(children[0], None, env)
            body = self._error_set(node, inner)
            return Lambda(node, param, None, formals, ellipsis, children[0], known(body))
        if any(c.type in ("binding", "inherit", "inherit_from") for c in children):
            return self._error_set(node, env)
        return Unknown(node)

    def _error_set(self, node: Node, env: Env) -> Value:
        result = AttrSet(node, dynamic=True)
        self._bind(node, None, env, result)
        return result

    def attrset(self, node: Node, env: Env, recursive: bool) -> AttrSet:
        result = AttrSet(node)
        bindings = binding_set_of(node)
        if bindings is None:
            return result
        scope = Env(env) if recursive else env
        thunks = self._bind(bindings, scope if recursive else None, env, result)
        if recursive:
            scope.bindings.update(thunks)
        return result

    def binding(self, binding: Node, env: Env) -> list[Definition]:
        """The definitions one `binding` of a plain (not `rec`) set read in `env` makes: one
        entry of a set of thousands, without reading the others."""
        result = AttrSet(None)
        self._bind(binding, None, env, result, only=[binding])
        return result.definitions

    def _bind(
        self, bindings: Node, target_env: Env | None, env: Env, result: AttrSet | None = None, only: list[Node] | None = None
    ) -> dict[str, Thunk]:
        """Read a binding_set into `result` (attrset) and/or `target_env` (let, rec); `only`:
        these bindings of it."""
        top: dict[str, Thunk] = {}
        children = only if only is not None else bindings.named_children
        if only is None and bindings.has_error and any(c.type == "ERROR" for c in children):
            # Complete bindings tree-sitter kept inside an ERROR among them still count. (The
            # set is not made dynamic: what the broken part hides is analysis.py's to judge,
            # from the syntax errors.)
            children = [g for c in children for g in (c.named_children if c.type == "ERROR" else (c,))]
        for binding in children:
            if binding.type == "binding":
                path = binding.child_by_field_name("attrpath")
                value = binding.child_by_field_name("expression")
                if path is None:
                    continue
                attrs = self._attr_names(path, env)
                if not attrs:
                    continue
                thunk = Thunk(value, env if target_env is None else target_env, self)
                name, key_node = attrs[0]
                if name is None:
                    if result is not None:
                        result.dynamic = True
                    continue
                rest = tuple(attrs[1:]) if len(attrs) > 1 else ()
                if not rest:
                    thunk.binder = key_node
                definition = Definition(name, key_node, rest, thunk)
                if result is not None:
                    result.definitions.append(definition)
                if target_env is not None:
                    if rest:
                        # `a.b = 1; a.c = 2;` in let/rec: a is the merge of both
                        holder = top.get(name)
                        merged = holder.force() if holder is not None else None
                        if not isinstance(merged, AttrSet):
                            merged = AttrSet(key_node)
                            holder = known(merged)
                            holder.binder = key_node
                            top[name] = holder
                        (sub, sub_node), *more = rest
                        if sub is None:
                            merged.dynamic = True
                        else:
                            merged.definitions.append(Definition(sub, sub_node, tuple(more), thunk))
                    else:
                        top[name] = thunk
            elif binding.type in ("inherit", "inherit_from"):
                attrs = binding.child_by_field_name("attrs")
                source = binding.child_by_field_name("expression")
                if attrs is None:
                    continue
                for attr in attrs.named_children:
                    name, key_node = self._attr_name(attr, env)
                    if name is None:
                        if result is not None:
                            result.dynamic = True
                        continue
                    if source is not None:
                        thunk = Thunk(source, env, self)
                        selected = _SelectThunk(thunk, name, attr, self)
                    else:
                        found = env.lookup(name)
                        selected = found if found is not None else known(Unknown(attr))
                    if result is not None:
                        result.definitions.append(Definition(name, key_node, (), selected))
                    if target_env is not None:
                        top[name] = selected
        if target_env is not None:
            target_env.bindings.update(top)
        return top

    def _attr_names(self, path: Node, env: Env) -> list[tuple[str | None, Node | None]]:
        """The names of an attrpath (`a."b".${c}`), comments left out."""
        names = []
        text = self.text
        for attr in path.named_children:
            kind = attr.type
            if kind == "identifier":  # the common case, without a call
                names.append((text[attr.start_byte : attr.end_byte].decode("utf-8", "replace"), attr))
            elif kind != "comment":
                names.append(self._attr_name(attr, env))
        return names

    def _attr_name(self, attr: Node, env: Env) -> tuple[str | None, Node | None]:
        if attr.type == "identifier":
            return self.node_text(attr), attr
        if attr.type in ("string_expression", "indented_string_expression"):
            return _string_content(attr, self.text), attr
        if attr.type == "interpolation":
            inner = [c for c in attr.named_children if c.type != "comment"]
            if inner:
                value = self.read(inner[0], env)
                if isinstance(value, Str) and value.text is not None:
                    return value.text, attr
            return None, attr
        return None, attr

    def select(self, node: Node, env: Env) -> Value:
        base = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        default = node.child_by_field_name("default")
        value = self.read(base, env) if base is not None else Unknown(node)
        if path is not None:
            for attr in path.named_children:
                name, _ = self._attr_name(attr, env)
                if not isinstance(value, AttrSet) or name is None:
                    value = Unknown(node)
                    break
                got = value.get(name)
                if got is None:
                    if value.dynamic:
                        value = Unknown(node)
                        break
                    return self.read(default, env) if default is not None else Unknown(node)
                value = got
        if isinstance(value, Unknown) and default is not None:
            return Unknown(node)
        return value

    def apply(self, node: Node, env: Env) -> Value:
        function, args = unfold_application(node)
        callee = dotted_name(function, self.text)
        name = callee[-1] if callee else ""
        if name in TRANSPARENT_WRAPPERS and args:
            return self.read(args[-1], env)
        if name == "mkMerge" and len(args) == 1:
            items = self.read(args[0], env)
            if isinstance(items, ListValue):
                merged = AttrSet(node)
                for item in items.items():
                    if isinstance(item, AttrSet):
                        merged.definitions.extend(item.definitions)
                        merged.dynamic |= item.dynamic
                    else:
                        merged.dynamic = True
                return merged
        return Call(node, callee, function, [self.thunk(a, env) for a in args])

    def binary(self, node: Node, env: Env) -> Value:
        operator = node.child_by_field_name("operator")
        if operator is None or self.node_text(operator) != "//":
            return Unknown(node)
        left = self.read(node.child_by_field_name("left"), env)
        right = self.read(node.child_by_field_name("right"), env)
        if not isinstance(right, AttrSet):
            if isinstance(left, AttrSet):
                return AttrSet(node, list(left.definitions), dynamic=True)
            return Unknown(node)
        if not isinstance(left, AttrSet):
            return AttrSet(node, list(right.definitions), dynamic=True)
        overridden = set(right.names())
        kept = [d for d in left.definitions if d.name not in overridden]
        return AttrSet(node, kept + list(right.definitions), dynamic=left.dynamic or right.dynamic)


class _SelectThunk(Thunk):
    """`inherit (source) name;`: source.name, read lazily."""

    __slots__ = ("source", "name", "attr")

    def __init__(self, source: Thunk, name: str, attr: Node, reader: Reader):
        super().__init__(attr, source.env, reader)
        self.source = source
        self.name = name
        self.attr = attr
        self.binder = attr

    def force(self) -> Value:
        if self._value is None:
            base = self.source.force()
            got = base.get(self.name) if isinstance(base, AttrSet) else None
            self._value = got if got is not None else Unknown(self.attr)
        return self._value


def read_file(root: Node, text: bytes) -> Value:
    reader = Reader(text)
    return reader.read(root, Env(None))
