"""The clan.service schema as data (schema.py) and its type model (types.py)."""

from . import schema, types
from .versions import Generation, NEWEST

__all__ = ["schema", "types", "Generation", "NEWEST"]
