"""Model layer: syntax tree -> what a file declares (values, service modules)."""

from .service import (
    ServiceModule, SourceFile, attach_imports, find_services, load_source, peel_functions,
)
from .values import (
    AttrSet, Bool, Call, Definition, Float, Int, Lambda, ListValue, Null, PathValue, Str,
    Unknown, Value, dotted_name,
)

__all__ = [
    "ServiceModule", "SourceFile", "attach_imports", "find_services", "load_source", "peel_functions",
    "AttrSet", "Bool", "Call", "Definition", "Float", "Int", "Lambda", "ListValue", "Null",
    "PathValue", "Str", "Unknown", "Value", "dotted_name",
]
