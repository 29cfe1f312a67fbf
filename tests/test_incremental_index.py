"""The workspace index and the inventory checks are brought up to date per edit, reusing
what did not change (analysis.py, workspace/index.py, checks/inventory.py). After every
edit in a sequence, each answer must be the one a fresh Analysis gives over the same texts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from clan_lsp.analysis import Analysis
from clan_lsp.model import load_source
from clan_lsp.workspace import WorkspaceIndex

CLEAN = Path(__file__).parent / "workspaces/clean"
CLAN = "flake-parts/default.nix"
VPN = "services/vpn.nix"
HELLO = "services/hello/default.nix"

# Instances written one binding each, as a big generated clan writes them: the per-instance
# findings are reused for these.
EXTRA = "".join(
    f'      "vpn-{n}" = {{\n'
    f'        module.name = "vpn";\n'
    f'        module.input = "self";\n'
    f"        roles.peer.machines.alpha.settings.mtu = {1400 + n};\n"
    f"      }};\n"
    for n in range(6)
)


@pytest.fixture()
def clan(tmp_path: Path) -> Path:
    root = tmp_path / "clan"
    shutil.copytree(CLEAN, root)
    clan_file = root / CLAN
    text = clan_file.read_text()
    anchor = "      instances.greeting = {"
    assert anchor in text
    clan_file.write_text(text.replace(anchor, "      instances = {\n" + EXTRA + "      };\n\n" + anchor, 1))
    return root


def answers(analysis: Analysis, root: Path) -> dict:
    """Every file's findings, and what the index says, in comparable form."""
    found: dict = {}
    for path in sorted(root.rglob("*.nix")):
        found[str(path)] = sorted(
            (f.code, f.severity, f.start, f.end, f.message, f.clan_message or "", repr(f.fixes)) for f in analysis.diagnostics(str(path))
        )
    index = analysis.index
    found["index"] = (
        sorted((name, r.path, r.source.path, r.key_node.start_byte if r.key_node else None, r.inline is not None) for name, r in index.modules.items()),
        [(i.name, i.source.path, i.key_node.start_byte if i.key_node else None, sorted(i.value.names())) for i in index.instances],
        list(index.machines),
        list(index.indexed),
        sorted(index.interfaces),
        index.complete,
        index.clan_date,
        sorted(index.owners().items()),
    )
    return found


class Editor:
    """An Analysis driven the way the server drives it, and the texts of its open buffers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.live = Analysis(roots=[str(root)])
        self.buffers: dict[str, bytes] = {}

    def path(self, relative: str) -> str:
        return str(self.root / relative)

    def open(self, relative: str) -> None:
        self.set(relative, Path(self.path(relative)).read_bytes())

    def set(self, relative: str, text: bytes, tree=None) -> None:
        """The buffer's new text (read from `tree` when the buffer keeps one)."""
        path = self.path(relative)
        self.buffers[path] = text
        self.live.update(path, load_source(text, path, tree=tree))
        self.live.diagnostics(path)  # the server answers after every change

    def replace(self, relative: str, old: str, new: str) -> None:
        text = self.buffers[self.path(relative)]
        assert old.encode() in text, old
        self.set(relative, text.replace(old.encode(), new.encode(), 1))

    def replay(self, steps: list[tuple[str, str, str]]) -> None:
        """(file, old, new) edits, each answered as a fresh analysis would."""
        for relative, old, new in steps:
            self.replace(relative, old, new)
            self.check()

    def close(self, relative: str) -> None:
        path = self.path(relative)
        self.buffers.pop(path)
        self.live.update(path, None)

    def disk_changed(self) -> None:
        self.live.invalidate()

    def check(self) -> None:
        fresh = Analysis(roots=[str(self.root)])
        for path, text in self.buffers.items():
            fresh.update(path, load_source(text, path))
        WorkspaceIndex.SETS_BY_TEXT = False  # the fresh one reads every set, as it is
        try:
            expected = answers(fresh, self.root)
        finally:
            WorkspaceIndex.SETS_BY_TEXT = True
        assert answers(self.live, self.root) == expected


def test_edits_to_the_clan_file_equal_a_fresh_analysis(clan: Path) -> None:
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open(VPN)
    editor.check()
    steps = [
        ("mtu = 1402;", 'mtu = "wide";'),  # a finding inside one instance
        ("machines.beta = { };", "machines.betax = { };"),  # a machine renamed: unknown-machine elsewhere
        ('"vpn-3" = {', '"vpn-3x" = {'),  # an instance renamed
        ('module.name = "vpn";\n        module.input = "self";\n        roles.peer.machines.alpha.settings.mtu = 1404;',
         'module.name = "vpm";\n        module.input = "self";\n        roles.peer.machines.alpha.settings.mtu = 1404;'),  # a module not found
        ("modules.hello = ../services/hello;", "modules.hellox = ../services/hello;"),  # a registration renamed
        ("    meta.name", "    # a comment that moves every instance\n    meta.name"),
        ("instances = {\n", 'instances = {\n      "new" = { module.name = "hello"; module.input = "self"; roles.nobody = { }; };\n'),
        ("roles.peer.settings.keepalive = 25;", "roles.peer.settings.keepalive = 25"),  # half-typed
        ("roles.peer.settings.keepalive = 25", "roles.peer.settings.keepalive = 25;"),
        ("modules.hellox = ../services/hello;", "modules.hello = ../services/hello;"),
    ]
    for old, new in steps:
        editor.replace(CLAN, old, new)
        if not editor.live.index.indexed or load_source(editor.buffers[editor.path(CLAN)]).tree.root.has_error:
            continue  # half-typed: the last good clans are kept on purpose (Analysis.index)
        editor.check()
    editor.close(CLAN)
    editor.check()


def test_edits_to_a_service_recheck_the_instances_using_it(clan: Path) -> None:
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open(VPN)
    editor.open(HELLO)
    editor.check()
    steps = [
        (VPN, "options.keepalive", "options.keepalivex"),  # unknown-setting in the clan file
        (VPN, "roles.peer = {", "roles.peers = {"),  # unknown-role
        (VPN, "roles.peers = {", "roles.peer = {"),
        (VPN, "options.mtu = lib.mkOption {\n          type = lib.types.int;", "options.mtu = lib.mkOption {\n          type = lib.types.str;"),
        (CLAN, "mtu = 1400;", "mtu = 1401;"),
        (VPN, "options.keepalivex", "options.keepalive"),
        (VPN, "type = lib.types.str;", "type = lib.types.int;"),
    ]
    editor.replay(steps)
    editor.close(VPN)
    editor.check()


def test_files_and_folders_appearing_on_disk(clan: Path) -> None:
    editor = Editor(clan)
    editor.open(CLAN)
    editor.check()
    # a machine folder: a machine clan registers
    (clan / "flake-parts/machines/betax").mkdir(parents=True)
    editor.replace(CLAN, "machines.beta = { };", "machines.gamma = { };")
    editor.check()
    editor.disk_changed()
    editor.check()
    # a new service file registered by an edit, then written to disk
    editor.replace(CLAN, "modules.hello = ../services/hello;", "modules.hello = ../services/hello;\n    modules.extra = ../services/extra.nix;")
    editor.check()
    extra = clan / "services/extra.nix"
    extra.write_text((CLEAN / VPN).read_text().replace('"acme/vpn"', '"acme/extra"'))
    editor.disk_changed()
    editor.check()
    editor.replace(CLAN, 'module.name = "vpn";\n        module.input = "self";\n        roles.peer.machines.alpha.settings.mtu = 1400;',
                   'module.name = "extra";\n        module.input = "self";\n        roles.peer.machines.alpha.settings.mtu = 1400;')
    editor.check()
    editor.open("services/extra.nix")
    editor.replace("services/extra.nix", "options.mtu", "options.mtux")
    editor.check()
    # a file of its own clan appearing, then edited while open
    orphan = clan / "other.nix"
    orphan.write_text('{ clan.inventory.instances.lonely = { module.name = "nope"; }; }\n')
    editor.disk_changed()
    editor.check()
    editor.open("other.nix")
    editor.replace("other.nix", '"nope"', '"vpn"')
    editor.check()
    editor.replace("other.nix", "clan.inventory", "clan.inventoryx")
    editor.check()
    # and gone
    editor.close("other.nix")
    os.remove(orphan)
    editor.disk_changed()
    editor.check()


def test_a_file_becoming_a_clan_entry(clan: Path) -> None:
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open(HELLO)
    editor.check()
    # the service file's text mentions a clan entry in a comment: still no clan
    editor.replace(HELLO, "{", "# lib.clan\n{", )
    editor.check()
    # the flake stops importing the clan: no clan at all, then back
    editor.open("flake.nix")
    editor.replace("flake.nix", "imports = [ ./flake-parts ];", "imports = [ ];")
    editor.check()
    editor.replace("flake.nix", "imports = [ ];", "imports = [ ./flake-parts ];")
    editor.check()


def test_a_file_that_held_no_clan_starting_one(clan: Path) -> None:
    (clan / "machine.nix").write_text("{ clan.core.vars.generators = { }; }\n")  # read, and holds no clan
    editor = Editor(clan)
    editor.open(CLAN)
    editor.check()
    editor.open("machine.nix")
    editor.replace("machine.nix", "clan.core.vars", 'clan.inventory.instances.x = { module.name = "nope"; }; clan.core.vars')
    editor.check()
    editor.replace("machine.nix", '"nope"', '"vpn"')
    editor.check()
    editor.close("machine.nix")
    editor.check()


def _split_hello(clan: Path, imports: str) -> Editor:
    """hello's greeter role moved to greeter.nix, hello importing `imports`; the clan file,
    hello and greeter.nix open."""
    hello = clan / HELLO
    text = hello.read_text()
    start = text.index("  roles.greeter = {")
    end = text.rindex("}")
    (clan / "services/hello/greeter.nix").write_text("{\n" + text[start:end] + "}\n")
    hello.write_text(text[:start] + f"  imports = {imports};\n" + text[end:])
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open(HELLO)
    editor.open("services/hello/greeter.nix")
    editor.check()
    return editor


def test_a_service_split_in_files(clan: Path) -> None:
    editor = _split_hello(clan, "[ ./greeter.nix ]")
    steps = [
        ("services/hello/greeter.nix", "options.text", "options.textx"),  # the clan file's instance, and the module file
        ("services/hello/greeter.nix", "{ settings, ... }:", "{ settings }:"),
        (HELLO, 'manifest.readme = "Greets.";', ""),
        ("services/hello/greeter.nix", "{ settings }:", "{ settings, ... }:"),
        (HELLO, "imports = [ ./greeter.nix ];", "imports = [ ];"),
        (HELLO, "imports = [ ];", "imports = [ ./greeter.nix ];"),
        # a part again: its edits re-check the instances (the module's own file was edited
        # last, so its parts are read again for this)
        ("services/hello/greeter.nix", "options.textx", "options.text"),
        (HELLO, "imports = [ ./greeter.nix ];", "imports = [ ];"),
        ("services/hello/greeter.nix", "options.text", "options.textx"),  # no part now
        (HELLO, "imports = [ ];", "imports = [ ./greeter.nix ];"),
        ("services/hello/greeter.nix", "options.textx", "options.text"),
    ]
    editor.replay(steps)


def test_a_part_imported_by_an_edit_then_edited(clan: Path) -> None:
    """Typing in a module's own file does not read its parts again (it stays one of them);
    a file it imports after an edit is its part as soon as that file is edited, though
    nothing asked for the module's parts in between."""
    editor = _split_hello(clan, "[ ]")
    editor.replace(HELLO, "imports = [ ];", "imports = [ ./greeter.nix ];")
    editor.replace("services/hello/greeter.nix", "options.text", "options.textx")
    editor.live.diagnostics(editor.path(CLAN))
    editor.check()  # the clan's instance sets `text`, which greeter.nix no longer declares


def test_closing_a_buffer_whose_file_holds_a_clan(clan: Path) -> None:
    (clan / "other.nix").write_text('{ clan.inventory.instances.lonely = { module.name = "nope"; }; }\n')
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open("other.nix")
    editor.check()
    editor.replace("other.nix", "clan.inventory.instances", "nothing.here")  # no clan in the buffer
    editor.check()
    editor.close("other.nix")  # the disk's clan again
    editor.check()


def test_one_file_registered_twice(clan: Path) -> None:
    text = (clan / CLAN).read_text().replace("modules.vpn = ../services/vpn.nix;", "modules.vpn = ../services/vpn.nix;\n    modules.vpn2 = ../services/vpn.nix;")
    text = text.replace('"vpn-2" = {\n        module.name = "vpn";', '"vpn-2" = {\n        module.name = "vpn2";')
    (clan / CLAN).write_text(text)
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open(VPN)
    editor.check()
    editor.replace(VPN, "options.mtu", "options.mtux")  # both registrations' instances
    editor.check()


# A clan file as a generator writes a big one: `modules` and `inventory.instances` each one
# literal set; the index reads such a set once per text and its entries when asked.
LITERAL_CLAN = """{ lib, ... }:
{
  flake.clan = {
    meta.name = "acme";
    modules = {
      vpn = ../services/vpn.nix;
      "hello" = ../services/hello;
    };
    inventory = {
      machines = {
        alpha = { tags = [ "edge" ]; };
        beta = { };
      };
      instances = {
""" + EXTRA + """      greeting = {
          module.name = "hello";
          module.input = "self";
          roles.greeter.tags.edge = { };
          roles.greeter.settings.text = "hi";
        };
      };
    };
  };
}
"""


def test_edits_to_a_clan_written_as_literal_sets(clan: Path) -> None:
    (clan / CLAN).write_text(LITERAL_CLAN)
    editor = Editor(clan)
    editor.open(CLAN)
    editor.open(VPN)
    editor.check()
    steps = [
        (CLAN, "mtu = 1402;", 'mtu = "wide";'),  # inside one instance
        (CLAN, "beta = { };", "betax = { };"),  # machines: the instances' text is the same
        (CLAN, '"vpn-3" = {', '"vpn-3x" = {'),
        (CLAN, '"hello" = ../services/hello;', '"hellox" = ../services/hello;'),  # in the modules set
        (CLAN, '"hellox" = ../services/hello;', '"hello" = ../services/hello;'),  # the text seen before
        (CLAN, "    meta.name", "    # moves everything below\n    meta.name"),
        (CLAN, '"vpn-0" = {', '# a comment among the instances\n      "vpn-0" = {'),
        (CLAN, '"vpn-1" = {', '"vpn\\"1" = {'),  # a name with an escape: the model reads it
        (CLAN, '"vpn\\"1" = {', 'vpn1 = {'),
        (VPN, "options.keepalive", "options.keepalivex"),
        (CLAN, "mtu = 1400;", "mtu = 1401;"),
        (VPN, "options.keepalivex", "options.keepalive"),
        # an inline module in the set, then an instance defined in two places: read as before
        (CLAN, "vpn = ../services/vpn.nix;", 'vpn = ../services/vpn.nix;\n      inline = { _class = "clan.service"; manifest.name = "i"; roles.r = { }; };'),
        (CLAN, "      greeting = {", '      greeting.roles.greeter.machines.alpha = { };\n      greeting = {'),
        (CLAN, "      greeting.roles.greeter.machines.alpha = { };\n", ""),
        (CLAN, '      inline = { _class = "clan.service"; manifest.name = "i"; roles.r = { }; };', ""),
    ]
    editor.replay(steps)
    editor.close(CLAN)
    editor.check()


# A clan file of many instances, as bench/synth.py writes one: literal `modules`, `machines`
# and `instances` sets. After an edit, the index reads again only the bindings whose bytes
# changed, and the inventory findings of the other instances carry over (PlainSet.again,
# InstanceDecl.same_as, checks/inventory.py `_carried_rows`).
MANY = 14


def _many_clan() -> str:
    instances = "".join(
        f'      "i-{n}" = {{\n'
        f'        module.name = "{"vpn" if n % 2 else "hello"}";\n'
        f'        module.input = "self";\n'
        + (f"        roles.peer.machines.m-{n}.settings.mtu = {1400 + n};\n" if n % 2 else f"        roles.greeter.machines.m-{n} = {{ }};\n")
        + "      };\n"
        for n in range(MANY)
    )
    machines = "".join(f'      m-{n} = {{ tags = [ "all" ]; }};\n' for n in range(MANY))
    return (
        "{ lib, ... }:\n{\n  flake.clan = {\n    meta.name = \"many\";\n    modules = {\n"
        "      vpn = ../services/vpn.nix;\n      \"hello\" = ../services/hello;\n    };\n"
        "    inventory.machines = {\n" + machines + "    };\n"
        "    inventory.instances = {\n" + instances + "    };\n  };\n}\n"
    )


class TypingEditor(Editor):
    """As the server: one tree per open buffer, edited in place (tree.edit) and reparsed incrementally."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.trees: dict = {}

    def open(self, relative: str) -> None:
        from clan_lsp.syntax import SyntaxTree

        path = self.path(relative)
        text = Path(path).read_bytes()
        self.trees[path] = SyntaxTree(text)
        self.set(relative, text, self.trees[path])

    def replace(self, relative: str, old: str, new: str) -> None:
        path = self.path(relative)
        text = self.buffers[path]
        at = text.find(old.encode())
        assert at >= 0, old
        tree = self.trees[path]
        tree.edit(at, at + len(old.encode()), new.encode())
        self.set(relative, tree.text, tree)

    def type(self, relative: str, after: str, typed: str) -> None:
        """Type `typed` one character at a time right after the first `after`."""
        for count in range(1, len(typed) + 1):
            self.replace(relative, after + typed[: count - 1], after + typed[:count])

    def half_typed(self, relative: str) -> bool:
        return self.trees[self.path(relative)].root.has_error


def _same_instances_count(editor: Editor) -> int:
    return sum(1 for instance in editor.live.index.instances if instance.same_as is not None)


@pytest.mark.parametrize("typing", [False, True], ids=["whole-texts", "incremental-trees"])
def test_edits_to_a_clan_of_many_instances(clan: Path, typing: bool) -> None:
    (clan / CLAN).write_text(_many_clan())
    editor = TypingEditor(clan) if typing else Editor(clan)
    editor.open(CLAN)
    editor.open(VPN)
    editor.check()
    steps = [
        ("mtu = 1403;", 'mtu = "wide";'),  # a finding inside one instance
        ("mtu = 1405;", "mtu = 1405; badkey = 1;"),  # another, later in the file
        ("    meta.name", "    # moves every instance and finding\n    meta.name"),
        ('"i-4" = {', '"i-4x" = {'),  # an instance renamed
        ("roles.greeter.machines.m-6", "roles.greeterx.machines.m-6"),  # a role unknown to its module
        ("roles.greeterx.machines.m-6", "roles.greeter.machines.m-6"),
        ("m-8 = {", "m-8x = {"),  # a machine renamed: unknown-machine in the instance naming it
        ("m-8x = {", "m-8 = {"),
        ('      "i-0" = {', '      "i-new" = { module.name = "hello"; module.input = "self"; roles.nobody = { }; };\n      "i-0" = {'),
        ('      "i-new" = { module.name = "hello"; module.input = "self"; roles.nobody = { }; };\n', ""),  # removed again
        ('"i-2" = {', '# a comment among the instances\n      "i-2" = {'),
        ("mtu = 1405;", "mtu = 1405;"),  # nothing changed
        ("# a comment among the instances\n      ", ""),  # the instances after it are where they were
        ('"i-2" = {', '# a comment among the instances\n      "i-2" = {'),
        ('"i-9" = {', '"i-1" = {'),  # a name defined twice: the model merges
        ('"i-1" = {\n        module.name = "vpn";\n        module.input = "self";\n        roles.peer.machines.m-9',
         '"i-9" = {\n        module.name = "vpn";\n        module.input = "self";\n        roles.peer.machines.m-9'),
        ('module.name = "vpn";\n        module.input = "self";\n        roles.peer.machines.m-11',
         'module.name = "vpm";\n        module.input = "self";\n        roles.peer.machines.m-11'),  # a module not found
        ("vpn = ../services/vpn.nix;", "vpm = ../services/vpn.nix;"),  # ... then registered under that name
        ("vpm = ../services/vpn.nix;", "vpn = ../services/vpn.nix;"),
        ('"hello" = ../services/hello;', '"vpmx" = ../services/hello;'),  # a name close to the one not found
        ('"vpmx" = ../services/hello;', '"hello" = ../services/hello;'),
        ("mtu = 1407;", "mtu = 1407"),  # half-typed, then repaired
        ("mtu = 1407", "mtu = 1407;"),
        ('"i-12" = {', '"i-12" = '),  # a brace gone: the rest of the set reads otherwise
        ('"i-12" = ', '"i-12" = {'),
        ("1413;\n      };\n    };\n  };\n}\n", "1413;\n      };\n"),  # the end of the file cut off
        ("1413;\n      };\n", "1413;\n      };\n    };\n  };\n}\n"),
    ]
    for old, new in steps:
        editor.replace(CLAN, old, new)
        if typing and editor.half_typed(CLAN):
            continue  # half-typed: the last good clans are kept on purpose (Analysis.index)
        if not typing and load_source(editor.buffers[editor.path(CLAN)]).tree.root.has_error:
            continue
        editor.check()
    assert not load_source(editor.buffers[editor.path(CLAN)]).tree.root.has_error
    if typing:  # one character at a time: a name, then a setting
        editor.type(CLAN, '"i-13', "abc")
        editor.check()
        editor.type(CLAN, "mtu = 1401;", " extra = 2;")
        editor.check()
    # a registration of a file not yet on disk, then written there: paths are asked again
    editor.replace(CLAN, "vpn = ../services/vpn.nix;", "vpn = ../services/vpn.nix;\n      extra = ../services/extra;")
    editor.replace(CLAN, 'module.name = "hello";\n        module.input = "self";\n        roles.greeter.machines.m-12',
                   'module.name = "extra";\n        module.input = "self";\n        roles.greeter.machines.m-12')
    editor.check()
    (clan / "services/extra").mkdir()
    (clan / "services/extra/default.nix").write_text((clan / HELLO).read_text().replace("hello", "extra"))
    editor.disk_changed()
    editor.check()
    editor.replace(CLAN, "mtu = 1401;", "mtu = 1401; other = 1;")
    editor.check()
    editor.close(CLAN)
    editor.check()


def test_an_edit_inside_one_instance_carries_the_others_over(clan: Path) -> None:
    (clan / CLAN).write_text(_many_clan())
    editor = TypingEditor(clan)
    editor.open(CLAN)
    editor.replace(CLAN, "mtu = 1403;", 'mtu = "wide";')
    assert _same_instances_count(editor) == MANY - 1
    editor.check()
    editor.replace(CLAN, "m-8 = {", "m-8x = {")  # no instance's text changed
    assert _same_instances_count(editor) == MANY
    editor.check()
    editor.replace(CLAN, '"i-3" = {', '"i-3" = { };\n      "i-3b" = {')  # one more instance
    assert _same_instances_count(editor) == MANY - 1
    editor.check()
