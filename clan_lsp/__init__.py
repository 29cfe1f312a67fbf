"""clan-lsp: language server and checker for Clan's clan.service modules."""

__version__ = "0.1.0"
