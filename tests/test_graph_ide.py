"""The export graph in the editor: hover on selectExports, tag inlay hints, role code lenses."""

from __future__ import annotations

from pathlib import Path

from clan_lsp.analysis import Files
from clan_lsp.ide.graph import role_lenses, select_hover, tag_hints
from clan_lsp.workspace import WorkspaceIndex

CLEAN = Path(__file__).parent / "workspaces" / "graph" / "clean"


def workspace():
    files = Files()
    return files, WorkspaceIndex.build([str(CLEAN)], files)


def test_hover_on_select_exports_lists_what_it_receives() -> None:
    files, index = workspace()
    source = files.load(str(CLEAN / "services/client.nix"))
    text = source.text
    on_callee = select_hover(index, source, text.index(b"selectExports") + 3)
    assert on_callee is not None
    assert "instance `clients` (gamma): matches 2: acme/registry:registry-main:server:alpha, acme/registry:registry-main:server:beta" in on_callee
    assert select_hover(index, source, text.index(b'"acme/registry"') + 1) == on_callee  # on the predicate too
    assert select_hover(index, source, text.index(b"manifest.name")) is None


def test_hover_lists_per_machine_when_machines_differ() -> None:
    files, index = workspace()
    source = files.load(str(CLEAN / "services/mesh.nix"))
    markdown = select_hover(index, source, source.text.index(b"selectExports") + 1)
    assert "- instance `mesh` (alpha, beta, gamma):" in markdown
    assert "  - on `alpha`: matches 2: acme/mesh:mesh:node:beta, acme/mesh:mesh:node:gamma" in markdown


def test_inlay_hints_resolve_tags_to_machines() -> None:
    files, index = workspace()
    source = files.load(str(CLEAN / "flake-parts/default.nix"))
    hints = {source.text[: h.offset].rsplit(b"\n", 1)[-1].strip().decode(): h.label for h in tag_hints(index, source)}
    assert hints == {
        'roles.server.tags = [ "server" ]': "→ alpha, beta",
        'roles.node.tags = [ "all" ]': "→ alpha, beta, gamma",  # `all` is built in
    }
    assert tag_hints(index, files.load(str(CLEAN / "services/mesh.nix"))) == []


def test_code_lens_counts_instances_and_machines() -> None:
    files, index = workspace()
    source = files.load(str(CLEAN / "services/registry.nix"))
    (lens,) = role_lenses(index, source)
    assert source.text[lens.start : lens.end] == b"server"
    assert lens.title == "used by 1 instance on 2 machines"
    (reference,) = lens.references
    clan = files.load(reference.path)
    assert clan.text[reference.start : reference.end] == b"server" and reference.path.endswith("flake-parts/default.nix")
