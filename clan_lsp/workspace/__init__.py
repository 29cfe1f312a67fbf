"""The workspace: export interfaces, registered modules and the inventory, across files."""

from .index import FieldDecl, InstanceDecl, InterfaceDecl, ModuleRegistration, WorkspaceIndex, clan_core_date

__all__ = ["FieldDecl", "InstanceDecl", "InterfaceDecl", "ModuleRegistration", "WorkspaceIndex", "clan_core_date"]
