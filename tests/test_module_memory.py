"""Memory bounded by what is in use: `Files` holds the last few files read from disk (and any
file something else holds), `ModuleCache` keeps what the checks read of each module
(ModuleFacts) without the module. Answers must not depend on what happened to be kept."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest

import test_incremental_index as incremental
from clan_lsp import analysis
from clan_lsp.analysis import Analysis, Files
from clan_lsp.inputs.resolve import nested_options_open
from clan_lsp.model import find_services, load_source
from clan_lsp.model.facts import ModuleFacts
from clan_lsp.model.interface import closed_interface, role_names, role_options
from clan_lsp.model.values import Env
from clan_lsp.workspace.index import ModuleCache
from test_incremental_index import clan  # noqa: F401 - the fixture

HERE = Path(__file__).parent
SERVICE = """{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "svc";
  imports = [ ./role.nix ];
  roles.server.interface.options.port = lib.mkOption { type = lib.types.port; };
}
"""
ROLE = """{ lib, ... }:
{
  roles.client.interface = { lib, ... }: {
    options.host = lib.mkOption { type = lib.types.str; description = "Where"; };
    options.tls = { enable = lib.mkEnableOption "tls"; };
  };
}
"""


@pytest.fixture()
def nothing_kept(monkeypatch):
    """Files and modules dropped as soon as nothing uses them."""
    monkeypatch.setattr(analysis, "KEPT_FILES", 0)
    monkeypatch.setattr(ModuleCache, "KEEP", 0)


@pytest.mark.parametrize(
    "scenario",
    [
        incremental.test_edits_to_the_clan_file_equal_a_fresh_analysis,
        incremental.test_edits_to_a_service_recheck_the_instances_using_it,
        incremental.test_files_and_folders_appearing_on_disk,
        incremental.test_a_service_split_in_files,
    ],
    ids=lambda s: s.__name__,
)
def test_answers_do_not_depend_on_what_is_kept(nothing_kept, clan: Path, scenario) -> None:  # noqa: F811
    scenario(clan)


def _service(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "svc").mkdir()
    main, role = tmp_path / "svc/default.nix", tmp_path / "svc/role.nix"
    main.write_text(SERVICE)
    role.write_text(ROLE)
    return str(main), str(role)


def _rewrite(path: str, old: str, new: str) -> None:
    text = Path(path).read_text()
    assert old in text
    Path(path).write_text(text.replace(old, new))
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a stamp that differs, however fast


def test_a_file_nobody_holds_is_dropped_beyond_keep_and_read_again_alike(tmp_path: Path) -> None:
    paths = []
    for n in range(4):
        path = tmp_path / f"f{n}.nix"
        path.write_text(f"{{ a = {n}; }}\n")
        paths.append(str(path))
    files = Files(keep=2)
    held = files.load(paths[0])  # held by the caller
    for path in paths[1:]:
        files.load(path)
    gc.collect()
    assert files.load(paths[0]) is held  # the same object while anyone holds it
    assert files._cached(paths[1]) is None  # beyond `keep`, not held: gone
    assert files._cached(paths[3]) is not None  # among the last `keep`
    again = files.load(paths[1])
    assert again.text == b"{ a = 1; }\n"
    unbounded = Files()
    first = unbounded.load(paths[1])
    first_id = id(first)
    del first
    for path in paths:
        unbounded.load(path)
    gc.collect()
    assert id(unbounded._cached(paths[1])) == first_id  # `clan-lsp check`: every file kept


def test_versions_follow_buffers_and_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "a.nix"
    path.write_text("{ a = 1; }\n")
    files = Files(keep=0)
    on_disk = files.version(str(path))
    assert on_disk is not None and files.version(str(path)) == on_disk
    files.set_overlay(str(path), load_source(b"{ a = 2; }\n", str(path)))
    opened = files.version(str(path))
    assert opened != on_disk
    files.set_overlay(str(path), load_source(b"{ a = 3; }\n", str(path)))
    assert files.version(str(path)) not in (on_disk, opened)  # every edit is a version
    files.drop_overlay(str(path))
    assert files.version(str(path)) == on_disk
    _rewrite(str(path), "1", "4")
    files.forget_stamps()
    assert files.version(str(path)) != on_disk
    assert files.load(str(path)).text == b"{ a = 4; }\n"
    assert files.version(str(tmp_path / "missing.nix")) is None


def test_facts_are_read_without_keeping_the_module(tmp_path: Path) -> None:
    main, role = _service(tmp_path)
    files = Files(keep=4)
    cache = ModuleCache(files)
    facts = cache.facts(main)
    assert facts is not None and facts.roles == ("server", "client")
    gc.collect()
    assert cache._entries[main].module() is None  # neither the module...
    assert files._cached(main) is None and files._cached(role) is None  # ...nor its files' trees
    assert cache.facts(main) is facts  # nothing changed: the same facts, nothing read
    assert cache.module(main) is not None and cache.facts(main) is facts  # read again: still the same version
    files.set_overlay(main, load_source(SERVICE.encode(), main))  # typed in: the module is kept with its facts
    typed = cache.facts(main)
    assert typed is not facts and typed.roles == facts.roles and typed._module is not None
    files.drop_overlay(main)
    closed = cache.facts(main)
    assert closed._module is None and [o.name for o in closed.options("client")] == ["host", "tls"]


def test_facts_change_with_any_file_of_the_module(tmp_path: Path) -> None:
    main, role = _service(tmp_path)
    files = Files(keep=0)
    cache = ModuleCache(files)
    before = cache.facts(main)
    assert [o.name for o in before.options("client")] == ["host", "tls"]
    # an imported file opened and edited
    files.set_overlay(role, load_source(ROLE.replace("options.host", "options.hostname").encode(), role))
    edited = cache.facts(main)
    assert edited is not before and [o.name for o in edited.options("client")] == ["hostname", "tls"]
    # closed: the disk's text again
    files.drop_overlay(role)
    closed = cache.facts(main)
    assert [o.name for o in closed.options("client")] == ["host", "tls"]
    # changed on disk
    _rewrite(main, "roles.server", "roles.backend")
    files.forget_stamps()
    changed = cache.facts(main)
    assert changed.roles == ("backend", "client")
    # an import that is missing, then appears
    _rewrite(main, "./role.nix", "./later.nix")
    files.forget_stamps()
    assert cache.facts(main).roles is None  # an import not followed: the roles are not all known
    Path(tmp_path / "svc/later.nix").write_text(ROLE)
    files.forget_stamps()
    assert cache.facts(main).roles == ("backend", "client")


def test_a_clan_of_many_services_holds_a_bounded_number_of_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(analysis, "KEPT_FILES", 4)
    monkeypatch.setattr(ModuleCache, "KEEP", 2)
    root = tmp_path / "clan"
    shutil.copytree(incremental.CLEAN, root)
    vpn = (root / incremental.VPN).read_text()
    count = 30
    for n in range(count):
        (root / f"services/vpn{n}.nix").write_text(vpn)
    registrations = "".join(f"    modules.vpn{n} = ../services/vpn{n}.nix;\n" for n in range(count))
    instances = "".join(
        f'      instances.i{n} = {{ module.name = "vpn{n}"; module.input = "self"; roles.peer.machines.alpha.settings.mtu = "x"; }};\n'
        for n in range(count)
    )
    clan_file = root / incremental.CLAN
    text = clan_file.read_text().replace("    modules.vpn = ../services/vpn.nix;\n", "    modules.vpn = ../services/vpn.nix;\n" + registrations)
    clan_file.write_text(text.replace("    inventory = {\n", "    inventory = {\n" + instances))
    live = Analysis(roots=[str(root)])
    live.update(str(clan_file), load_source(clan_file.read_bytes(), str(clan_file)))
    found = live.diagnostics(str(clan_file))
    assert sum(f.code == "unknown-setting" for f in found) == count  # every instance checked against its module
    gc.collect()
    alive = [p for p in live.files._disk if "/services/vpn" in p and live.files._cached(p) is not None]
    assert len(alive) <= 4 + 2  # the files kept, and those of the modules kept
    # every service and role, as the server asks (automatic collection off): read from facts,
    # the modules' cycles freed as they are read
    fresh = Analysis(roots=[str(root)])
    fresh.index
    collecting = gc.isenabled()
    gc.disable()
    try:
        scopes = _scopes()
        symbols = fresh.workspace_symbols("")
        scopes = _scopes() - scopes  # alive or garbage not yet collected: they hold the trees
    finally:
        if collecting:
            gc.enable()
    assert {s.name for s in symbols} >= {f"vpn{n}" for n in range(count)} | {"peer"}
    assert scopes <= 4 * 3  # those of the files kept, not one per service


def _scopes() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Env)


def _modules() -> list:
    """Every service module of the test workspaces and the examples, its imports followed."""
    files = Files()
    cache = ModuleCache(files)
    found = []
    for folder in (HERE / "workspaces", HERE.parent / "examples"):
        for path in sorted(folder.rglob("*.nix")):
            source = files.load(str(path))
            if source is not None and find_services(source, registered_too=False)[0]:
                module = cache.module(str(path))
                if module is not None:
                    found.append(module)
    assert len(found) >= 5
    return found


def _shape(option) -> tuple:
    return (option.name, option.type_text, option.default_text, option.description, tuple(_shape(c) for c in option.children))


def _paths(options, trail=()):
    for option in options:
        yield trail + (option.name,)
        yield from _paths(option.children, trail + (option.name,))


@pytest.mark.parametrize("keep_module", [False, True], ids=["read-now", "read-when-asked"])
@pytest.mark.parametrize("module", _modules(), ids=lambda m: os.path.relpath(m.source.path, HERE.parent))
def test_facts_answer_as_the_module_does(module, keep_module: bool) -> None:
    facts = ModuleFacts(module, keep_module=keep_module)
    assert facts.parts == tuple(os.path.abspath(p.source.path) for p in module.parts() if p.source.path)
    assert facts.anchor == ((module.source.path, module.body.node.start_byte) if module.body.node is not None else None)
    assert facts.role_keys == tuple((n, s.path, k.start_byte, k.end_byte) for n, k, s in role_names(module) if k is not None)
    for role in [name for name, _, _ in role_names(module)] + ["no-such-role"]:
        options = role_options(module, role)
        assert [_shape(o) for o in facts.options(role)] == [_shape(o) for o in options]
        assert all(o.key_node is None and o.source is None for o in facts.options(role))  # no tree held
        assert facts.closed(role) == closed_interface(module, role)
        for path in _paths(options):
            assert facts.nested_open(role, path) == nested_options_open(module, role, path)


def test_line_starts_of_a_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "a.nix"
    path.write_text("{\n  a = 1;\n}\n")
    files = Files(keep=0)
    index = files.line_index(str(path))
    assert index.line_starts == [0, 2, 11, 13]
    assert files._cached(str(path)) is None and not files._disk  # no parse, no tree
    assert files.line_index(str(path)) is index  # unchanged: the same
    _rewrite(str(path), "  a = 1;\n", "  a = 1;\n  b = 2;\n")
    files.forget_stamps()
    assert files.line_index(str(path)).line_starts == [0, 2, 11, 20, 22]  # changed on disk
    files.set_overlay(str(path), load_source(b"{ }\n", str(path)))
    assert files.line_index(str(path)).line_starts == [0, 4]  # the open buffer's
    files.drop_overlay(str(path))
    assert files.line_index(str(path)).line_starts == [0, 2, 11, 20, 22]
    assert files.line_index(str(tmp_path / "missing.nix")) is None
