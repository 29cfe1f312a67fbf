"""IDE features over the model: completion, hover, navigation, symbols, fixes.

Plain dataclasses in and out (items.py); the server converts them to LSP types.
"""

from .completion import complete
from .features import code_actions, definition, document_symbols, hover, prepare_rename, references, rename, workspace_symbols

__all__ = ["complete", "code_actions", "definition", "document_symbols", "hover", "prepare_rename", "references", "rename", "workspace_symbols"]
