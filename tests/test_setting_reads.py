"""unknown-setting-read judges only the `settings` perInstance binds: reads of a `settings`
bound inside its body (an inner function's formal, a let) are not the role's."""

from __future__ import annotations

from clan_lsp.checks.base import run_rules
from clan_lsp.model import find_services, load_source

SERVICE = """{
  _class = "clan.service";
  manifest.name = "acme/a";
  manifest.readme = "A.";
  roles.server = {
    description = "Server";
    interface = { lib, ... }: { options.domain = lib.mkOption { type = lib.types.str; }; };
    perInstance =
      { settings, ... }:
      {
        nixosModule = BODY;
      };
  };
}
"""


def _unknown_reads(body: str) -> list[str]:
    text = SERVICE.replace("BODY", body)
    (module,), _ = find_services(load_source(text, "a.nix"))
    findings = run_rules(module, only=["unknown-setting-read"])
    return sorted(text[f.start : f.end] for f in findings)


def test_reads_of_the_roles_settings_are_judged():
    assert _unknown_reads("{ networking.domain = settings.domian; }") == ["domian"]
    assert _unknown_reads("{ networking.domain = settings.domain; }") == []
    assert _unknown_reads("{ a = settings.domain; b = (x: settings.nope) 1; }") == ["nope"]


def test_a_settings_bound_inside_the_body_is_not_the_roles():
    assert _unknown_reads("{ settings, ... }: { networking.domain = settings.anything; }") == []
    assert _unknown_reads("let settings = { }; in { a = settings.anything; }") == []
    assert _unknown_reads("rec { settings = { }; a = settings.anything; }") == []
    assert _unknown_reads("{ a = settings.one; b = let settings = 1; in settings.two; }") == ["one"]
    assert _unknown_reads("{ a = ({ settings }: settings.two) { }; c = settings.three; }") == ["three"]


def test_a_pattern_named_like_its_formal():
    # `{ settings, ... }@settings:` binds the name twice; Nix rejects it, no read is judged
    text = SERVICE.replace("{ settings, ... }:", "{ settings, ... }@settings:").replace("BODY", "{ a = settings.nope; }")
    (module,), _ = find_services(load_source(text, "a.nix"))
    assert [f for f in run_rules(module, only=["unknown-setting-read"])] == []
