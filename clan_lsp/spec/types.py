"""A small model of nixpkgs option types, enough to check literals statically.

Each type knows the description nixpkgs prints in "is not of type `...`", so
our messages read like clan's.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NixType:
    """Base: anything goes (raw, anything, unspecified)."""

    label: str = field(default="anything", kw_only=True)

    @property
    def description(self) -> str:
        """What nixpkgs prints in "is not of type `...`"."""
        return self.label

    def show(self) -> str:
        """How the type is written in Nix, for hover and completion detail."""
        return self.description


@dataclass(frozen=True)
class Str(NixType):
    label: str = field(default="string", kw_only=True)

    def show(self) -> str:
        return "str"


@dataclass(frozen=True)
class Int(NixType):
    label: str = field(default="signed integer", kw_only=True)
    minimum: int | None = None
    maximum: int | None = None
    nix: str = "int"

    def show(self) -> str:
        return self.nix


@dataclass(frozen=True)
class Float(NixType):
    label: str = field(default="floating point number", kw_only=True)

    def show(self) -> str:
        return "float"


@dataclass(frozen=True)
class Bool(NixType):
    label: str = field(default="boolean", kw_only=True)

    def show(self) -> str:
        return "bool"


@dataclass(frozen=True)
class Path(NixType):
    label: str = field(default="path", kw_only=True)

    def show(self) -> str:
        return "path"


@dataclass(frozen=True)
class Enum(NixType):
    values: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return "one of " + ", ".join(f'"{v}"' for v in self.values)

    def show(self) -> str:
        return "enum [ " + " ".join(f'"{v}"' for v in self.values) + " ]"


@dataclass(frozen=True)
class StrMatching(NixType):
    pattern: str = ""

    @property
    def description(self) -> str:
        return f'string matching the pattern {self.pattern}'

    def show(self) -> str:
        return f'strMatching "{self.pattern}"'


@dataclass(frozen=True)
class ListOf(NixType):
    element: NixType = field(default_factory=NixType)

    @property
    def description(self) -> str:
        return f"list of {self.element.description}"

    def show(self) -> str:
        return f"listOf {_paren(self.element.show())}"


@dataclass(frozen=True)
class AttrsOf(NixType):
    element: NixType = field(default_factory=NixType)
    lazy: bool = False

    @property
    def description(self) -> str:
        return f"{'lazy ' if self.lazy else ''}attribute set of {self.element.description}"

    def show(self) -> str:
        return f"{'lazyAttrsOf' if self.lazy else 'attrsOf'} {_paren(self.element.show())}"


@dataclass(frozen=True)
class NullOr(NixType):
    inner: NixType = field(default_factory=NixType)

    @property
    def description(self) -> str:
        return f"null or {self.inner.description}"

    def show(self) -> str:
        return f"nullOr {_paren(self.inner.show())}"


@dataclass(frozen=True)
class Either(NixType):
    left: NixType = field(default_factory=NixType)
    right: NixType = field(default_factory=NixType)

    @property
    def description(self) -> str:
        return f"{self.left.description} or {self.right.description}"

    def show(self) -> str:
        return f"either {_paren(self.left.show())} {_paren(self.right.show())}"


@dataclass(frozen=True)
class Submodule(NixType):
    """A fixed set of options (no freeform): unknown keys do not exist."""

    options: tuple = ()  # tuple[Option, ...]; typed loosely to avoid a cycle
    label: str = field(default="submodule", kw_only=True)

    def option(self, name: str):
        for opt in self.options:
            if opt.name == name:
                return opt
        return None

    def show(self) -> str:
        return "submodule"


@dataclass(frozen=True)
class AttrTag(NixType):
    """Exactly one attribute, naming a tag; each tag has its own type."""

    tags: tuple = ()  # tuple[Option, ...]
    label: str = field(default="attribute-tagged union", kw_only=True)

    def show(self) -> str:
        return "attrTag { " + " ".join(f"{t.name} = ...;" for t in self.tags) + " }"


@dataclass(frozen=True)
class Module(NixType):
    """deferredModule: an attrset, a function returning one, or a path."""

    label: str = field(default="module", kw_only=True)

    def show(self) -> str:
        return "deferredModule"


@dataclass(frozen=True)
class Function(NixType):
    label: str = field(default="function", kw_only=True)

    def show(self) -> str:
        return "function"


def _paren(text: str) -> str:
    return f"({text})" if " " in text else text


ANY = NixType()
STR = Str()
INT = Int()
BOOL = Bool()
FLOAT = Float()
PATH = Path()
MODULE = Module()
PORT = Int(
    label="16 bit unsigned integer; between 0 and 65535 (both inclusive)",
    minimum=0,
    maximum=65535,
    nix="port",
)
POSITIVE = Int(label="positive integer, meaning >0", minimum=1, nix="ints.positive")
UNSIGNED = Int(label="unsigned integer, meaning >=0", minimum=0, nix="ints.unsigned")
LIST_OF_STR = ListOf(STR)
