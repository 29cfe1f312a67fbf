"""Checks: small named rules over a service module, each with a stable code.

Importing this package registers every rule family.
"""

from . import arguments, clanlib, exports, graph, inventory, structure, syntax  # noqa: F401  (registration)
from .base import ERROR, INFO, RULES, WARNING, Edit, Finding, Fix, Rule, full_message, rules_by_code, run_rules

__all__ = ["ERROR", "INFO", "RULES", "WARNING", "Edit", "Finding", "Fix", "Rule", "full_message", "rules_by_code", "run_rules"]
