"""Flake inputs: clan-core's services and other inputs' services, read at the pinned version.

tests/workspaces/inputs holds a clan whose flake.lock pins clan-core, a flake-parts input
(my-org) and a `path` input (local-mods); the `store` fixture copies the sources of the
locked inputs to the store paths their narHashes give, under a temporary NIX_STORE_DIR.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from clan_lsp import inputs
from clan_lsp.analysis import Files
from clan_lsp.checks.inventory import resolve_instance, run_inventory_rules
from clan_lsp.inputs import catalogue
from clan_lsp.inputs.lock import read_lock
from clan_lsp.inputs.store import from_nix_base32, nix_base32, sha256_digest, source_store_path
from clan_lsp.workspace import WorkspaceIndex

HERE = Path(__file__).parent
FIXTURE = HERE / "workspaces" / "inputs"
ROOT = HERE.parent

# ---------------------------------------------------------------- store paths

# Recorded with Nix 2.8 (Debian nix-bin): for three folders named `source`,
# `nix-hash --type sha256 --base32 source` gave the hash, and
# `nix-store --print-fixed-path --recursive sha256 <hash> source` the path for each store dir
# (`nix-store --add-fixed --recursive sha256 source` with NIX_STORE_DIR=/tmp/nixv/store agreed).
NIX_VECTORS = [
    ("043nm1l69h5s5mr88pqfnssggjwzl236cirbia9ninh5r9pxllx9", "sha256-qVPab8oF2miTiitHZoagn8v3tLYOX4RyLbrAZGiodhA=",
     "/nix/store/ykmdwkdxraa27q0vb4xblvsynn2qhg32-source", "/tmp/nixv/store/ms42driqfv0javhh2pz9w7ff5nadcbl2-source"),
    ("03l941kwciqacgbmadf3lh74jhl426yvdw174gvlxybkp84fa2rc", "sha256-LAvlCLpz+U73Iyfwtr0RhEJJDqTDNVXXYwpHxmcgiQ4=",
     "/nix/store/jqqn0fp2bjhqpk5c8jcc5a37457fzn1v-source", "/tmp/nixv/store/9hynkrp17sxnnk5597qynn2347pcphbg-source"),
    ("1pz20yw0bv87a4lmlwsg4bvvsgy764ww95fi7hhhv1v2fwl0fbwq", "sha256-mC8HKHdihw0hPNGVxDkxxz+99yJPc1opUQftBbgH4t8=",
     "/nix/store/7l6zrfbvk6s11iqyk5wjkh125f6wvk53-source", "/tmp/nixv/store/5jjrqdx4b0z281zhaadv0cmp88vz06s9-source"),
]


@pytest.mark.parametrize("base32, sri, default_path, other_path", NIX_VECTORS)
def test_store_path_matches_nix(base32: str, sri: str, default_path: str, other_path: str) -> None:
    assert source_store_path(sri, "/nix/store") == default_path
    assert source_store_path(sri, "/tmp/nixv/store") == other_path
    assert source_store_path(f"sha256:{base32}", "/nix/store") == default_path  # the base-32 spelling
    assert source_store_path("sha256:" + sha256_digest(sri).hex(), "/nix/store") == default_path
    assert nix_base32(from_nix_base32(base32)) == base32


def test_store_dir_from_environment(monkeypatch) -> None:
    _, sri, default_path, other_path = NIX_VECTORS[0]
    monkeypatch.delenv("NIX_STORE_DIR", raising=False)
    assert source_store_path(sri) == default_path
    monkeypatch.setenv("NIX_STORE_DIR", "/tmp/nixv/store")
    assert source_store_path(sri) == other_path


@pytest.mark.parametrize("bad", ["", "sha256-", "sha256-notbase64!", "md5-AAAA", "sha256:zzzz", None])
def test_unreadable_nar_hash_gives_no_path(bad) -> None:
    assert source_store_path(bad, "/nix/store") is None


@pytest.mark.skipif(shutil.which("nix-store") is None or shutil.which("nix-hash") is None, reason="needs nix-store (Debian nix-bin)")
def test_store_path_agrees_with_nix_store_add_fixed(tmp_path) -> None:
    folder = tmp_path / "in" / "source"
    (folder / "sub").mkdir(parents=True)
    (folder / "default.nix").write_text("{ }: { }\n")
    (folder / "sub" / "x").write_text("x")
    store = tmp_path / "store"
    env = dict(os.environ, NIX_STORE_DIR=str(store), NIX_STATE_DIR=str(tmp_path / "state"), NIX_LOG_DIR=str(tmp_path / "log"))
    base32 = subprocess.run(["nix-hash", "--type", "sha256", "--base32", str(folder)], capture_output=True, text=True, check=True, env=env).stdout.strip()
    added = subprocess.run(["nix-store", "--add-fixed", "--recursive", "sha256", str(folder)], capture_output=True, text=True, env=env)
    if added.returncode != 0:
        pytest.skip(f"nix-store cannot add here: {added.stderr.strip()[:200]}")
    assert source_store_path(f"sha256:{base32}", str(store)) == added.stdout.strip()


# ---------------------------------------------------------------- flake.lock


def test_lock_reads_each_root_input() -> None:
    lock = read_lock(str(FIXTURE / "clan" / "flake.lock"))
    assert set(lock.inputs) == {"clan-core", "my-org", "local-mods", "nixpkgs"}
    core = lock.inputs["clan-core"]
    assert (core.type, core.owner, core.repo, core.date) == ("github", "clan-lol", "clan-core", "2026-08-22")
    assert core.nar_hash.startswith("sha256-")
    local = lock.inputs["local-mods"]
    assert (local.type, local.path) == ("path", "../local-mods")
    assert lock.inputs["nixpkgs"].node == "nixpkgs"  # `follows` = ["clan-core", "nixpkgs"]
    assert lock.inputs["nixpkgs"].owner == "NixOS"
    assert lock.clan_core() is core


def test_lock_finds_clan_core_under_another_name(tmp_path) -> None:
    data = json.loads((FIXTURE / "clan" / "flake.lock").read_text())
    data["nodes"]["root"]["inputs"] = {"clan": "clan-core"}
    (tmp_path / "flake.lock").write_text(json.dumps(data))
    lock = read_lock(str(tmp_path / "flake.lock"))
    assert lock.clan_core().name == "clan"


@pytest.mark.parametrize("text", ["", "{", "[]", '{"nodes": 3}', '{"nodes": {"root": {"inputs": {"a": ["missing"]}}}}'])
def test_bad_lock_is_no_crash(tmp_path, text: str) -> None:
    (tmp_path / "flake.lock").write_text(text)
    lock = read_lock(str(tmp_path / "flake.lock"))
    assert lock is None or lock.inputs == {}


def test_generation_comes_from_the_lock(tmp_path) -> None:
    from clan_lsp.workspace import clan_core_date

    assert clan_core_date(str(FIXTURE / "clan" / "flake.lock")) == "2026-08-22"


# ---------------------------------------------------------------- the fixture clan with a store


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "ws")
    return tmp_path / "ws"


def _lay_out_store(ws: Path, store: Path, names=("clan-core", "my-org")) -> dict[str, str]:
    """Copy each locked input's source to the store path its narHash gives."""
    lock = read_lock(str(ws / "clan" / "flake.lock"))
    paths = {}
    for name in names:
        target = source_store_path(lock.inputs[name].nar_hash, str(store))
        shutil.copytree(ws / "store" / name, target)
        paths[name] = target
    return paths


@pytest.fixture(autouse=True)
def fresh_caches():
    inputs.clear_caches()
    yield
    inputs.clear_caches()


@pytest.fixture
def clan(tmp_path, monkeypatch):
    """(clan folder, {input: store path}) with the store laid out under NIX_STORE_DIR."""
    ws = _copy(tmp_path)
    store = tmp_path / "nix" / "store"
    monkeypatch.setenv("NIX_STORE_DIR", str(store))
    paths = _lay_out_store(ws, store)
    return ws / "clan", paths


def _index(folder: Path, settings=None) -> WorkspaceIndex:
    index = WorkspaceIndex.build([str(folder)], Files([str(folder)]))
    if settings is not None:
        index.input_settings = settings
    return index


def _findings(folder: Path, settings=None) -> list[tuple[int, str, str]]:
    index = _index(folder, settings)
    out = []
    for finding in run_inventory_rules(index):
        source = index.files.load(finding.path)
        line = source.tree.line_index.position(finding.start).line + 1
        # our statement, then clan's own words below it
        out.append((line, f"{finding.severity}[{finding.code}]", finding.message + "\n" + (finding.clan_message or "")))
    return sorted(out)


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "clan.nix"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _line_of(folder: Path, needle: str) -> int:
    lines = (folder / "clan.nix").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def test_clean_clan_with_store_has_no_findings(clan) -> None:
    folder, _ = clan
    assert _findings(folder) == []


def test_every_input_is_located(clan) -> None:
    folder, paths = clan
    core = inputs.locate_input(str(folder), None)
    assert core.provenance == f"locked store path {paths['clan-core']}"
    assert inputs.locate_input(str(folder), "my-org").root == os.path.realpath(paths["my-org"])
    local = inputs.locate_input(str(folder), "local-mods")
    assert local.provenance.startswith("path input ") and local.root == os.path.realpath(folder.parent / "local-mods")
    assert inputs.locate_input(str(folder), "nixpkgs") is None  # locked, not on this machine


def test_registered_modules_per_input(clan) -> None:
    folder, _ = clan
    core = inputs.provided_modules(str(folder), None)
    assert sorted(core.names) == ["greeter", "old-greeter", "sshd"]  # not perSystem's test registrations
    assert core.deprecated == ("old-greeter",)
    assert sorted(inputs.provided_modules(str(folder), "my-org").names) == ["backup", "metrics"]
    assert inputs.provided_modules(str(folder), "local-mods").names == ["motd"]
    assert inputs.provided_modules(str(folder), "nixpkgs") is None


def test_input_service_roles_options_and_source(clan) -> None:
    folder, paths = clan
    sshd = inputs.resolve_input_service(str(folder), None, "sshd")
    assert sshd.roles == ("server", "client") and sshd.label == "clan-core/sshd"
    port = next(o for o in sshd.options("server") if o.name == "port")
    assert (port.type_text, port.default_text, port.description) == ("port", "22", "The port sshd listens on.")
    assert port.source.path.startswith(paths["clan-core"])
    assert sshd.closed("server")
    greeter = inputs.resolve_input_service(str(folder), None, "greeter")  # importApply wrapper
    assert greeter.roles == ("morning", "evening")
    backup = inputs.resolve_input_service(str(folder), "my-org", "backup")
    assert [o.name for o in backup.options("client")] == ["target", "keep"]
    assert inputs.resolve_input_service(str(folder), "my-org", "sshd") is None
    assert inputs.resolve_input_service(str(folder), None, "old-greeter") is None  # a deprecated stub


def test_export_interfaces_of_an_input(clan) -> None:
    folder, _ = clan
    found = inputs.input_interfaces(str(folder), ["my-org", "local-mods", "nixpkgs"])
    assert list(found) == ["tunnel"]
    spec = found["tunnel"].as_spec()
    assert spec.field("endpoint") is not None and spec.field("endpoint").doc == "Where the tunnel ends."


def test_input_interfaces_follow_the_store_the_lock_and_folders(tmp_path, monkeypatch) -> None:
    """input_interfaces keeps its answer only while what locating the inputs reads is the same."""
    ws = _copy(tmp_path)
    folder = str(ws / "clan")
    store = tmp_path / "nix" / "store"
    store.mkdir(parents=True)
    monkeypatch.setenv("NIX_STORE_DIR", str(store))
    names = ["my-org", "local-mods"]
    assert list(inputs.input_interfaces(folder, names)) == []  # my-org is not on this machine yet
    _lay_out_store(ws, store, names=("my-org",))  # the clan was evaluated: its input appears
    assert list(inputs.input_interfaces(folder, names)) == ["tunnel"]
    lock = json.loads((ws / "clan" / "flake.lock").read_text())
    lock["nodes"]["root"]["inputs"].pop("my-org")  # the input is removed from the flake
    (ws / "clan" / "flake.lock").write_text(json.dumps(lock))
    assert list(inputs.input_interfaces(folder, names)) == []
    # a configured folder: its flake.nix declaring the interface, then not
    checkout = tmp_path / "my-org-checkout"
    shutil.copytree(ws / "store" / "my-org", checkout)
    settings = inputs.InputSettings({"my-org": str(checkout)})
    assert list(inputs.input_interfaces(folder, names, settings)) == ["tunnel"]
    (checkout / "flake.nix").write_text("{ outputs = _: { }; }\n")
    stat = os.stat(checkout / "flake.nix")
    os.utime(checkout / "flake.nix", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert list(inputs.input_interfaces(folder, names, settings)) == []


def test_parsed_once_per_nar_hash_and_lazily(clan) -> None:
    folder, _ = clan
    first = inputs.locate_input(str(folder), None)
    assert first._registrations is None and first._files == {}  # nothing read before a question
    inputs.provided_modules(str(folder), None)
    assert first._modules == {}  # names known, no service modelled yet
    service = inputs.resolve_input_service(str(folder), None, "sshd")
    again = inputs.resolve_input_service(str(folder), None, "sshd")
    assert inputs.locate_input(str(folder), None) is first
    assert service.module is again.module
    assert set(first._modules) == {"sshd"}


def test_never_reads_outside_the_source(clan, tmp_path) -> None:
    folder, paths = clan
    secret = tmp_path / "outside.nix"
    secret.write_text('{ _class = "clan.service"; manifest.name = "outside"; roles.x = { }; }')
    module_file = Path(paths["my-org"]) / "modules.nix"
    module_file.chmod(0o644)
    text = module_file.read_text().replace("clan.modules.backup = ./backup.nix;", f"clan.modules.backup = ./backup.nix;\n  clan.modules.escape = {os.path.relpath(secret, module_file.parent)};")
    module_file.write_text(text)
    (Path(paths["my-org"]) / "link.nix").symlink_to(secret)
    source = inputs.locate_input(str(folder), "my-org")
    assert "escape" in source.module_names()
    assert source.module("escape") is None
    assert source.load(str(Path(paths["my-org"]) / "link.nix")) is None
    assert all(p.startswith(os.path.realpath(paths["my-org"])) for p, s in source._files.items() if s is not None)


# ---------------------------------------------------------------- checks: a table of edits

EDITS = [
    # (what, old, new, line marker, expected finding, words our statement and clan's message must contain)
    ("unknown key at role level", "roles.server.settings.port = 2222;", "roles.server.settings.prot = 2222;",
     "settings.prot", "error[unknown-setting]", ["has no setting `prot`; did you mean `port`?", "instances.sshd.roles.server.machines.<machineName>.settings.prot' does not exist."]),
    ("unknown key at machine level", "settings.generateRootKey = true;", "settings.generateRootKeys = true;",
     "generateRootKeys", "error[unknown-setting]", ["did you mean `generateRootKey`?", "roles.server.machines.alpha.settings.generateRootKeys' does not exist"]),
    ("unknown key at tag level (other input)", "settings.keep = 7;", "settings.kept = 7;",
     "settings.kept", "error[unknown-setting]", ['"acme/backup" has no setting `kept`; did you mean `keep`?', "my-org-backup.instances.backups.roles.client"]),
    ("wrong literal type", "roles.server.settings.port = 2222;", 'roles.server.settings.port = "2222";',
     "settings.port", "error[unknown-setting]", ["Wrong type for setting `port`", "settings.port' is not of type"]),
    ("wrong literal type, other input", "settings.keep = 7;", 'settings.keep = "seven";',
     "settings.keep", "error[unknown-setting]", ["Wrong type for setting `keep`", "signed integer"]),
    ("unknown nested key", "settings.certificate.enable = false;", "settings.certificate.enabled = false;",
     "certificate.enabled", "error[unknown-setting]", ["`certificate` of role `server`", "did you mean `enable`?", "settings.certificate.enabled' does not exist."]),
    ("wrong nested literal type", "settings.certificate.enable = false;", 'settings.certificate.enable = "no";',
     "certificate.enable", "error[unknown-setting]", ["Wrong type for setting `certificate.enable`", "settings.certificate.enable' is not of type `boolean'"]),
    ("unknown role of clan-core's service", "roles.evening.tags.all = { };", "roles.evenin.tags.all = { };",
     "roles.evenin", "error[unknown-role]", ["has no role `evenin`; did you mean `evening`?", "module 'clan-core/greeter' only defines roles"]),
    ("unknown role of an input's service", "roles.collector.machines.alpha = { };", "roles.collect.machines.alpha = { };",
     "roles.collect", "error[unknown-role]", ['"acme/metrics" has no role `collect`', "did you mean `collector`?"]),
    ("a path input's setting", 'roles.default.settings.text = "Welcome";', 'roles.default.settings.txt = "Welcome";',
     "settings.txt", "error[unknown-setting]", ['"local/motd" has no setting `txt`; did you mean `text`?']),
    ("module an input does not provide", 'module.name = "backup";', 'module.name = "bakup";',
     '"bakup"', "error[module-not-found]", ['Flake input "my-org" (locked store path', 'has no service "bakup"; did you mean "backup"?', "flake input 'my-org' doesn't provide clan-module with name 'bakup'."]),
    ("module clan-core does not provide", 'module.name = "greeter";', 'module.name = "greter";',
     '"greter"', "error[module-not-found]", ['has no service "greter"; did you mean "greeter"?', "clan-core doesn't provide clan-module with name 'greter'."]),
    ("deprecated clan-core module", 'module.name = "greeter";', 'module.name = "old-greeter";',
     '"old-greeter"', "warning[module-not-found]", ["deprecated stub"]),
]


@pytest.mark.parametrize("what, old, new, marker, code, words", EDITS, ids=[e[0] for e in EDITS])
def test_inventory_findings_for_input_services(clan, what, old, new, marker, code, words) -> None:
    folder, _ = clan
    _edit(folder, old, new)
    found = _findings(folder)
    assert [(line, c) for line, c, _ in found] == [(_line_of(folder, marker), code)], found
    for word in words:
        assert word in found[0][2], found[0][2]


# ---------------------------------------------------------------- configured folders and the catalogue


def test_configured_folder_wins_over_the_store(clan, tmp_path) -> None:
    folder, paths = clan
    other = tmp_path / "checkout"
    shutil.copytree(paths["clan-core"], other)
    service = other / "clanServices" / "sshd" / "default.nix"
    service.chmod(0o644)
    service.write_text(service.read_text().replace("options.port", "options.listenPort"))
    settings = inputs.InputSettings({"clan-core": str(other)})
    found = _findings(folder, settings)
    assert [(line, c) for line, c, _ in found] == [(_line_of(folder, "settings.port"), "error[unknown-setting]")]
    assert "listenPort" in found[0][2]
    assert inputs.locate_input(str(folder), None, settings).provenance == f"configured folder {other}"


def test_catalogue_answers_for_clan_core_without_a_store(tmp_path, monkeypatch) -> None:
    ws = _copy(tmp_path)
    monkeypatch.setenv("NIX_STORE_DIR", str(tmp_path / "empty-store"))
    folder = ws / "clan"
    service = inputs.resolve_input_service(str(folder), None, "sshd")
    data = catalogue.load()
    assert service.provenance == f"catalogue of {data['date']}" and service.module is None
    assert inputs.resolve_input_service(str(folder), None, "sshd") is service  # one object: findings per instance are reused
    assert set(service.roles) == set(data["services"]["sshd"]["roles"])
    found = _findings(folder)
    # The real sshd has no `port`; the fake greeter is no clan-core service (a warning: versions differ);
    # my-org's services are out of sight (unknown is never an error); the path input still answers.
    assert [(line, c) for line, c, _ in found] == [
        (_line_of(folder, "settings.port"), "error[unknown-setting]"),
        (_line_of(folder, '"greeter"'), "warning[module-not-found]"),
    ]
    assert "authorizedKeys" in found[0][2]


# clan's own words for the real sshd (the oracle, clan-core d7c35d91, service.nix):
#   The option `probe.instances.i1.roles.server.machines.m1.settings.authorizedKey' does not exist. [...]
#   Did you mean `...settings.authorizedKeys', `...settings.hostKeys' or `...settings.certificate'?
#   The option `probe.instances.i1.roles.server.machines.m1.settings.certificate.searchDomain' does not exist. [...]
#   Did you mean `...settings.certificate.searchDomains' or `...settings.certificate.enable'?
ORACLE_SSHD = [
    ("roles.server.settings.authorizedKey = { };", "authorizedKey", "did you mean `authorizedKeys`?"),
    ("roles.server.settings.certificate.searchDomain = [ ];", "certificate.searchDomain", "did you mean `searchDomains`?"),
]


@pytest.mark.parametrize("line, key, suggestion", ORACLE_SSHD, ids=[o[1] for o in ORACLE_SSHD])
def test_catalogue_mirrors_clan_on_the_real_sshd(tmp_path, monkeypatch, line: str, key: str, suggestion: str) -> None:
    monkeypatch.setenv("NIX_STORE_DIR", str(tmp_path / "empty-store"))
    (tmp_path / "flake.nix").write_text((FIXTURE / "clan" / "flake.nix").read_text())
    (tmp_path / "clan.nix").write_text(
        "{\n  inventory.machines.m1 = { };\n  inventory.instances.i1 = {\n    module.name = \"sshd\";\n"
        f"    roles.server.machines.m1 = {{ }};\n    {line}\n  }};\n}}\n"
    )
    found = _findings(tmp_path)
    assert [(line_number, code) for line_number, code, _ in found] == [(6, "error[unknown-setting]")]
    ours, clans = found[0][2].split("\n", 1)
    assert suggestion in ours
    # clan's words; clan names the evaluation `probe` (the oracle's) where we name the service
    assert clans.startswith("The option `<clan-core>-sshd.instances.i1.roles.server.machines.")
    assert clans.endswith(f".settings.{key}' does not exist.")


def test_catalogue_can_be_turned_off(tmp_path, monkeypatch) -> None:
    ws = _copy(tmp_path)
    monkeypatch.setenv("NIX_STORE_DIR", str(tmp_path / "empty-store"))
    settings = inputs.InputSettings(use_catalogue=False)
    assert inputs.resolve_input_service(str(ws / "clan"), None, "sshd", settings) is None


def test_shipped_catalogue_is_well_formed() -> None:
    data = catalogue.load()
    assert data is not None and data["format"] == catalogue.FORMAT and data["date"]
    assert data["services"], "no services"
    for name, entry in data["services"].items():
        assert entry["roles"], name
        for role in entry["roles"].values():
            assert isinstance(role["closed"], bool)
            for option in role["options"]:
                assert option["name"]


def test_catalogue_generator_reads_a_checkout(clan, tmp_path) -> None:
    _, paths = clan
    out = tmp_path / "catalogue.json"
    script = ROOT / "scripts" / "gen_catalogue.py"
    subprocess.run(["python", str(script), paths["clan-core"], "--date", "2026-01-02", "--commit", "abc", "-o", str(out)], check=True, capture_output=True)
    data = json.loads(out.read_text())
    assert (data["date"], data["commit"], data["deprecated"]) == ("2026-01-02", "abc", ["old-greeter"])
    assert sorted(data["services"]) == ["greeter", "sshd"]
    port = next(o for o in data["services"]["sshd"]["roles"]["server"]["options"] if o["name"] == "port")
    assert port == {"name": "port", "type": "port", "default": "22"}  # no prose: clan-core's words stay there


def test_settings_and_flags() -> None:
    assert inputs.parse_input_flags(["clan-core=/src/clan-core", "my-org = ../org"]) == {"clan-core": "/src/clan-core", "my-org": "../org"}
    with pytest.raises(ValueError):
        inputs.parse_input_flags(["clan-core"])
    assert inputs.settings_from({"clan-core": "/x", "bad": 3}).folders == {"clan-core": "/x"}
    assert inputs.settings_from(None) == inputs.DEFAULT_SETTINGS


# ---------------------------------------------------------------- completion, hover, definition


def _offset(folder: Path, needle: str, within: int = 0) -> int:
    text = (folder / "clan.nix").read_bytes()
    return text.index(needle.encode()) + within


def _editor(folder: Path):
    from clan_lsp.model import find_services

    index = _index(folder)
    source = index.files.load(str(folder / "clan.nix"))
    return index, source, find_services(source)[0]


def test_hover_names_the_source(clan) -> None:
    from clan_lsp import ide

    folder, paths = clan
    index, source, modules = _editor(folder)
    port = ide.hover(source, modules, _offset(folder, "settings.port", 10), workspace=index)
    assert "`settings.port`" in port.markdown and "The port sshd listens on." in port.markdown and "Default: `22`" in port.markdown
    assert f"locked store path {paths['clan-core']}" in port.markdown
    name = ide.hover(source, modules, _offset(folder, '"backup"', 2), workspace=index)
    assert "service `backup`" in name.markdown and "`server`" in name.markdown
    motd = ide.hover(source, modules, _offset(folder, "settings.text", 10), workspace=index)
    assert "path input" in motd.markdown


def test_hover_with_the_catalogue(tmp_path, monkeypatch) -> None:
    from clan_lsp import ide

    ws = _copy(tmp_path)
    monkeypatch.setenv("NIX_STORE_DIR", str(tmp_path / "empty-store"))
    index, source, modules = _editor(ws / "clan")
    found = ide.hover(source, modules, _offset(ws / "clan", "settings.authorizedKeys", 10), workspace=index)
    assert f"catalogue of {catalogue.load()['date']}" in found.markdown


def test_definition_goes_into_the_input(clan) -> None:
    from clan_lsp import ide

    folder, paths = clan
    index, source, modules = _editor(folder)
    [setting] = ide.definition(source, modules, _offset(folder, "settings.port", 10), workspace=index)
    text = Path(setting.path).read_bytes()
    assert setting.path.startswith(paths["clan-core"]) and text[setting.start : setting.end] == b"port"
    [role] = ide.definition(source, modules, _offset(folder, "roles.collector", 7), workspace=index)
    assert role.path.endswith("metrics.nix") and Path(role.path).read_bytes()[role.start : role.end] == b"collector"
    [module] = ide.definition(source, modules, _offset(folder, '"backup"', 2), workspace=index)
    assert module.path == os.path.join(os.path.realpath(paths["my-org"]), "backup.nix")


def _complete(folder: Path, old: str, new: str, marker: str):
    from clan_lsp import ide

    _edit(folder, old, new)
    index, source, modules = _editor(folder)
    offset = _offset(folder, marker) + len(marker)
    return {c.label: c for c in ide.complete(source, modules, offset, workspace=index)}


def test_completion_of_module_names_per_input(clan) -> None:
    folder, _ = clan
    items = _complete(folder, 'module.name = "backup";', 'module.name = "b";', 'module.name = "b')
    assert set(items) == {"backup", "metrics"}
    inputs.clear_caches()
    items = _complete(folder, 'module.name = "greeter";', 'module.name = "g";', 'module.name = "g')
    assert {"sshd", "greeter"} <= set(items) and "old-greeter" not in items


def test_completion_of_settings_keys(clan) -> None:
    folder, _ = clan
    items = _complete(folder, "roles.client.settings.target", "roles.client.settings = { };\n      roles.client.settings.target", "roles.client.settings = { ")
    assert set(items) == {"target", "keep"}
    assert items["keep"].detail == "int" and "How many backups to keep." in items["keep"].documentation


def test_completion_of_roles(clan) -> None:
    folder, _ = clan
    items = _complete(folder, "roles.collector.machines.alpha = { };", "roles.collector.machines.alpha = { };\n      roles = { };", "roles = { ")
    assert set(items) == {"collector"}


# ---------------------------------------------------------------- real clan-core (skipped without a checkout)

CLAN_CORE = Path(os.environ.get("CLAN_CORE", "/work/clan-core"))
needs_clan_core = pytest.mark.skipif(not (CLAN_CORE / "clanServices").is_dir(), reason="needs a clan-core checkout (CLAN_CORE)")


@needs_clan_core
@pytest.mark.parametrize("configured", [False, True], ids=["catalogue", "configured-folder"])
def test_real_clan_core_templates_and_tests_have_no_false_finding(tmp_path, monkeypatch, configured: bool) -> None:
    monkeypatch.setenv("NIX_STORE_DIR", str(tmp_path / "empty-store"))
    settings = inputs.InputSettings({"clan-core": str(CLAN_CORE)}) if configured else None
    folders = []
    for template in sorted((CLAN_CORE / "templates" / "clan").iterdir()):
        shutil.copytree(template, tmp_path / template.name)  # as `clan flakes create` would
        folders.append(tmp_path / template.name)
    folders += [CLAN_CORE / "checks"] + sorted(p for p in (CLAN_CORE / "clanServices").iterdir() if p.is_dir())
    engaged = 0
    for folder in folders:
        index = _index(folder, settings)
        assert run_inventory_rules(index) == [], folder
        engaged += sum(1 for i in index.instances if (r := resolve_instance(index, i)) is not None and r.service is not None)
    assert engaged > 10  # the checks did look at clan-core's services


@pytest.mark.parametrize("written, summary", [
    ("attrsOf ( submodule ( { name, ... }: { options.x = lib.mkOption { }; } ) )", "attrsOf (submodule)"),
    ("submodule { options = { tcp = 1; }; }", "submodule"),
    ("listOf (submodule)", "listOf (submodule)"),
    ('either (enum [ "all" "nixos" ]) (listOf str)', 'either (enum [ "all" "nixos" ]) (listOf str)'),
])
def test_catalogue_keeps_types_not_module_code(written: str, summary: str) -> None:
    assert catalogue.type_summary(written) == summary


def test_flake_in_a_subfolder_of_a_locked_source(tmp_path, monkeypatch) -> None:
    ws = _copy(tmp_path)
    lock_path = ws / "clan" / "flake.lock"
    data = json.loads(lock_path.read_text())
    data["nodes"]["my-org"]["locked"]["dir"] = "modules"
    lock_path.write_text(json.dumps(data))
    store = tmp_path / "nix" / "store"
    monkeypatch.setenv("NIX_STORE_DIR", str(store))
    target = Path(source_store_path(data["nodes"]["my-org"]["locked"]["narHash"], str(store)))
    shutil.copytree(ws / "store" / "my-org", target / "modules")
    assert sorted(inputs.provided_modules(str(ws / "clan"), "my-org").names) == ["backup", "metrics"]


def test_through_the_analysis_facade(clan) -> None:
    """What the server and `clan-lsp check` ask: findings and hover by path and offset."""
    from clan_lsp.analysis import Analysis

    folder, paths = clan
    _edit(folder, "settings.keep = 7;", "settings.kept = 7;")
    analysis = Analysis(roots=[str(folder)])
    path = str(folder / "clan.nix")
    assert [f.code for f in analysis.diagnostics(path)] == ["unknown-setting"]
    found = analysis.hover(path, _offset(folder, "settings.target", 10))
    assert "The server machine to send backups to." in found.markdown and paths["my-org"] in found.markdown


def test_configured_folder_through_the_server_setting(clan, tmp_path) -> None:
    """The `inputs` setting as a user writes it reaches the checks through the Analysis."""
    from clan_lsp.analysis import Analysis
    from clan_lsp.server import Settings

    folder, paths = clan
    other = tmp_path / "checkout"
    shutil.copytree(paths["clan-core"], other)
    service = other / "clanServices" / "sshd" / "default.nix"
    service.chmod(0o644)
    service.write_text(service.read_text().replace("options.port", "options.listenPort"))
    analysis = Analysis(roots=[str(folder)])
    path = str(folder / "clan.nix")
    assert analysis.diagnostics(path) == []
    settings = Settings.read({"clan-lsp": {"inputs": {"clan-core": str(other)}}})
    analysis.set_input_folders(settings.inputs)
    assert [f.code for f in analysis.diagnostics(path)] == ["unknown-setting"]


def test_configured_folder_on_the_command_line(clan, tmp_path) -> None:
    """`clan-lsp check --input clan-core=PATH`, run as users run it."""
    import subprocess
    import sys

    folder, paths = clan
    other = tmp_path / "checkout"
    shutil.copytree(paths["clan-core"], other)
    service = other / "clanServices" / "sshd" / "default.nix"
    service.chmod(0o644)
    service.write_text(service.read_text().replace("options.port", "options.listenPort"))
    command = [sys.executable, "-m", "clan_lsp", "check", "clan.nix"]
    plain = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    configured = subprocess.run(command + ["--input", f"clan-core={other}"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert configured.returncode == 1 and "error[unknown-setting]" in configured.stdout


def test_export_interfaces_of_inputs_are_known_like_the_clans_own(clan) -> None:
    from clan_lsp.analysis import Analysis

    folder, _paths = clan
    service = folder / "tunnel.nix"
    service.write_text(
        '{ ... }: { _class = "clan.service"; manifest.name = "t"; manifest.readme = "t";\n'
        '  manifest.exports.out = [ "tunnel" ];\n'
        '  roles.a = { description = "a"; perInstance = { mkExports, ... }: { exports = mkExports { tunnel.endpont = "x"; }; }; };\n}\n'
    )
    assert "tunnel" in _index(folder).interface_specs()
    found = Analysis(roots=[str(folder)]).diagnostics(str(service))
    # the interface is found (no unknown-export-interface), so its fields are checked
    assert [(f.code, "endpoint" in f.message) for f in found] == [("export-interface", True)]
