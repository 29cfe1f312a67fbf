"""Model: every way Nix writes the same thing reads the same; unknown stays unknown."""

from __future__ import annotations

from pathlib import Path

from clan_lsp.analysis import Files, analyze
from clan_lsp.model import AttrSet, Call, Lambda, Str, Unknown, find_services, load_source


def service(text: str):
    modules, _ = find_services(load_source(text))
    assert len(modules) == 1
    return modules[0]


def names(value) -> list[str]:
    assert isinstance(value, AttrSet)
    return sorted(value.names())


def test_dotted_and_nested_paths_merge() -> None:
    module = service('{ _class = "clan.service"; manifest.name = "a"; manifest = { description = "d"; }; roles.x.description = "r"; roles = { y = { }; }; }')
    assert names(module.body.get("manifest")) == ["description", "name"]
    assert names(module.body.get("roles")) == ["x", "y"]
    assert module.body.path("manifest", "name").text == "a"


def test_let_rec_inherit_and_inherit_from() -> None:
    module = service(
        'let n = "svc"; parts = { description = "d"; }; in rec { _class = "clan.service"; '
        "manifest = { name = n; inherit (parts) description; }; self = manifest.name; roles = { }; }"
    )
    assert module.body.path("manifest", "name").text == "svc"
    assert module.body.path("manifest", "description").text == "d"
    assert module.body.path("self").text == "svc"


def test_module_function_and_importapply_wrapper_are_peeled() -> None:
    module = service('{ self }: { lib, clanLib, ... }: { _class = "clan.service"; manifest.name = "w"; roles = { }; }')
    assert isinstance(module.function, Lambda)
    assert [f.name for f in module.function.formals] == ["lib", "clanLib"]
    assert len(module.wrappers) == 1 and module.wrappers[0].formals[0].name == "self"


def test_mkif_mkmerge_mkdefault_and_update_are_seen_through() -> None:
    module = service(
        '{ lib, ... }: { _class = "clan.service"; manifest = lib.mkDefault { name = "m"; }; '
        "roles = lib.mkMerge [ { a = { }; } (lib.mkIf true { b = { }; }) ]; perMachine = { nixosModule = { }; } // { exports = { }; }; }"
    )
    assert module.body.path("manifest", "name").text == "m"
    assert names(module.body.get("roles")) == ["a", "b"]  # mkIf inside mkMerge is seen through too
    assert names(module.body.get("perMachine")) == ["exports", "nixosModule"]


def test_calls_and_outside_variables_are_unknown_not_wrong() -> None:
    module = service('{ clanLib, ... }: { _class = "clan.service"; manifest = import ./m.nix; roles = someRoles; }')
    assert isinstance(module.body.get("manifest"), Call)
    assert isinstance(module.body.get("roles"), Unknown)
    report = analyze(module.source, Files())
    assert [f for f in report.findings if f.severity == "error"] == []


def test_interpolated_names_make_a_set_dynamic() -> None:
    module = service('let k = "x"; in { _class = "clan.service"; manifest.name = "a"; roles.${k} = { }; roles.${unknown} = { }; }')
    roles = module.body.get("roles")
    assert roles.names() == ["x"] and roles.dynamic


def test_recognises_shape_without_class() -> None:
    module = service('{ manifest.name = "a"; roles.default = { }; }')
    assert module.body.has("roles")


def test_plain_nix_files_are_not_services() -> None:
    for text in ["{ pkgs, ... }: { services.nginx.enable = true; }", "[ 1 2 3 ]", "", "{ roles = 1; }"]:
        assert find_services(load_source(text))[0] == []


def test_inline_modules_in_a_flake_are_found() -> None:
    source = load_source(
        '{ inputs, ... }: { flake.clan = { modules."@acme/vpn" = { lib, ... }: { _class = "clan.service"; '
        'manifest.name = "acme/vpn"; roles.peer = { }; }; modules.other = ./other.nix; }; }'
    )
    modules, registered = find_services(source)
    assert [m.inline_name for m in modules] == ["@acme/vpn"]
    assert [(path, name) for path, _, name in registered] == [("./other.nix", "other")]


def test_imports_are_followed_and_role_files_checked_through_their_owner(tmp_path: Path) -> None:
    (tmp_path / "default.nix").write_text(
        '{ _class = "clan.service"; manifest.name = "s"; manifest.readme = "r"; imports = [ ./role.nix ]; }\n'
    )
    (tmp_path / "role.nix").write_text("{ roles.server = { description = \"d\"; perInstance = { settings }: { }; }; }\n")
    files = Files()
    owner = analyze(files.load(str(tmp_path / "default.nix")), files)
    # roles come from the imported file, so E1 does not fire; the imported file's mistake is found
    codes = {(Path(f.path).name, f.code) for f in owner.findings}
    assert codes == {("role.nix", "missing-ellipsis")}
    alone = analyze(files.load(str(tmp_path / "role.nix")), files)
    assert {f.code for f in alone.findings} == {"missing-ellipsis"}


def test_hostile_depth_gives_unknown_not_recursion_error() -> None:
    depth = 20000
    text = '{ _class = "clan.service"; manifest.name = "a"; roles = { }; deep = ' + "{ a = " * depth + "1" + "; }" * depth + "; }"
    source = load_source(text)
    report = analyze(source, Files())
    assert {f.code for f in report.findings} >= {"unknown-option"}
    chain = "let " + " ".join(f"v{i} = v{i + 1};" for i in range(5000)) + ' v5000 = "x"; in { _class = "clan.service"; manifest.name = v0; roles = { }; }'
    module = service(chain)
    assert isinstance(module.body.path("manifest", "name"), (Str, Unknown))


def test_owner_search_stays_inside_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "owner.nix").write_text('{ _class = "clan.service"; manifest.name = "s"; manifest.readme = "r"; imports = [ ./ws/role.nix ]; }\n')
    (workspace / "role.nix").write_text('{ roles.server = { description = "d"; perInstance = { settings }: { }; }; }\n')
    anywhere = Files()
    assert {f.code for f in analyze(anywhere.load(str(workspace / "role.nix")), anywhere).findings} == {"missing-ellipsis"}
    confined = Files(roots=[str(workspace)])
    assert analyze(confined.load(str(workspace / "role.nix")), confined).findings == []


def test_settings_of_an_inner_function_are_not_the_role_settings() -> None:
    text = (
        '{ lib, ... }: { _class = "clan.service"; manifest.name = "a"; manifest.readme = "r"; '
        'roles.s = { description = "d"; interface = { lib, ... }: { options.port = lib.mkOption { type = lib.types.int; }; }; '
        "perInstance = { settings, ... }: { nixosModule.a = settings.port; "
        "nixosModule.b = lib.mapAttrs (name: settings: settings.anything) { }; nixosModule.c = settings.prot; }; }; }"
    )
    report = analyze(load_source(text), Files())
    assert [text[f.start : f.end] for f in report.findings if f.code == "unknown-setting-read"] == ["prot"]
