"""Tree-sitter query files used by clan-lsp (installed as clan_lsp.grammars)."""
