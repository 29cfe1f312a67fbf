"""Syntax layer: trailing commas, errors in words, incremental edits, positions."""

from __future__ import annotations

import pytest

from clan_lsp.syntax import UTF8, UTF16, UTF32, LineIndex, Position, SyntaxTree, walk


def errors(text: str) -> list[str]:
    return [e.message for e in SyntaxTree(text).syntax_errors()]


def test_trailing_comma_in_formals_is_valid() -> None:
    assert errors("{ lib, clanLib, }: { }") == []
    assert errors("{\n  lib,\n}:\n{ }") == []
    assert errors("{ lib ? import <nixpkgs/lib>,\n}:\nlet a = 1; in a") == []
    assert errors("{ a = { x, y, }: x; }") == []


def test_missing_semicolon_is_reported_once_at_the_line_end() -> None:
    text = '{\n  manifest.name = "a" # a comment\n  roles = { };\n}'
    found = SyntaxTree(text).syntax_errors()
    assert [e.message for e in found] == ["expected `;` after the binding of `manifest.name`"]
    assert text[found[0].start : found[0].end] == '"'


def test_missing_closing_brace_names_the_token() -> None:
    assert any("expected `}`" in m for m in errors("{ a = { b = 1; ; }"))


def test_incremental_edit_matches_a_fresh_parse() -> None:
    tree = SyntaxTree("{ lib, }: { a = 1; }")
    tree.edit(6, 6, b" b,")  # `{ lib, b, }: ...`
    assert tree.text == b"{ lib, b, }: { a = 1; }"
    assert tree.syntax_errors() == []
    assert str(tree.root) == str(SyntaxTree(tree.text).root)
    tree.edit(0, len(tree.text), b"{ a = ")
    assert tree.syntax_errors()


def test_edit_that_makes_a_blanked_comma_non_trailing() -> None:
    tree = SyntaxTree("{ a, }: a")
    tree.edit(5, 5, b"b ")  # the once-trailing comma now separates a and b
    assert tree.text == b"{ a, b }: a"
    assert tree.syntax_errors() == []
    formals = tree.root.children[0].child_by_field_name("formals")
    assert [c.type for c in formals.named_children] == ["formal", "formal"]


def test_positions_count_utf16_units() -> None:
    text = "é😀x\nab".encode()
    index = LineIndex(text)
    x = text.index(b"x")
    assert index.position(x, UTF16) == Position(0, 3)  # é = 1 unit, 😀 = 2 units
    assert index.position(x, UTF8) == Position(0, 6)
    assert index.position(x, UTF32) == Position(0, 2)
    assert index.offset(Position(0, 3), UTF16) == x
    assert index.offset(Position(1, 1), UTF16) == text.index(b"b")
    assert index.offset(Position(0, 99), UTF16) == text.index(b"\n")  # clamps to the line end
    assert index.offset(Position(7, 0), UTF16) == len(text)


def test_deep_nesting_does_not_recurse() -> None:
    text = "[" * 50000 + "]" * 50000
    tree = SyntaxTree(text)
    assert tree.syntax_errors(limit=3) == [] or len(tree.syntax_errors(limit=3)) <= 3


def test_pipe_operators_parse_without_a_syntax_error() -> None:
    text = "(builtins.readDir ./.) |> lib.filterAttrs (n: v: v == \"directory\") |> lib.mapAttrs' (n: _: n)"
    tree = SyntaxTree(text)
    assert tree.syntax_errors() == []
    assert tree.text == text.encode()  # the node texts keep the real operator
    outer = tree.root.children[0]
    assert outer.type == "binary_expression"  # left-associative: (a |> f) |> g
    assert tree.node_text(outer.child_by_field_name("operator")) == "|>"
    assert tree.node_text(outer.child_by_field_name("left")).endswith('"directory")')
    assert errors("f <| g <| x") == []
    right = SyntaxTree("f <| g <| x").root.children[0]
    assert right.child_by_field_name("right").type == "binary_expression"  # right-associative
    assert errors('{ a = "${x |> f}"; b = x <| y; }') == []


def test_pipes_in_strings_and_comments_stay_text() -> None:
    text = '# a |> b\n{ s = "x |> y <| z"; t = \'\'a |> b\'\'; }'
    tree = SyntaxTree(text)
    assert tree.syntax_errors() == []
    assert tree._parse_text == tree.text  # nothing was rewritten
    assert errors("{ a = 1 |; }")  # a lone `|` is still an error


def test_pipes_survive_incremental_edits() -> None:
    tree = SyntaxTree("x |> f")
    tree.edit(6, 6, b" |> g")
    assert tree.text == b"x |> f |> g" and tree.syntax_errors() == []
    assert str(tree.root) == str(SyntaxTree(tree.text).root)
    tree.edit(2, 4, b"+")  # `x + f |> g`: the first pipe is gone, the second is still one
    assert tree.syntax_errors() == []
    assert str(tree.root) == str(SyntaxTree(tree.text).root)


def test_pipe_values_are_unknown_to_the_model() -> None:
    from clan_lsp.model.values import AttrSet, Unknown, read_file

    tree = SyntaxTree(b"{ a = { x = 1; } |> f; b = { } <| x; }")
    value = read_file(tree.root, tree.text)
    assert isinstance(value, AttrSet)
    assert isinstance(value.get("a"), Unknown) and isinstance(value.get("b"), Unknown)


def test_a_lone_carriage_return_ends_a_line() -> None:
    text = b"a\rb\r\nc\nd\re"
    index = LineIndex(text)
    assert index.position(text.index(b"b")) == Position(1, 0)
    assert index.position(text.index(b"c")) == Position(2, 0)
    assert index.position(text.index(b"e")) == Position(4, 0)
    assert index.offset(Position(3, 0)) == text.index(b"d")
    assert index.offset(Position(0, 9)) == text.index(b"\r")  # clamps before the break
    assert index.offset(Position(1, 9)) == text.index(b"\r\n")


def test_the_server_places_diagnostics_and_edits_by_lsp_lines_in_a_cr_only_file(tmp_path) -> None:
    import lsprotocol.types as lsp

    from clan_lsp.server import ClanLanguageServer

    text = '{\r  _class = "clan.service";\r  manifest.name = "a";\r  manifest.readme = "r";\r  roles.s.description = "d";\r  manifest.categories = [ "Nope" ];\r}\r'
    server = ClanLanguageServer()
    document = server.open((tmp_path / "cr.nix").as_uri(), text, 1)
    (found,) = [d for d in server.diagnostics(document) if d.code == "unknown-category"]
    assert (found.range.start.line, found.range.start.character) == (5, 26)
    # an edit at LSP line 5 lands on that line: fix the category in place
    change = lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(5, 27), lsp.Position(5, 31)), text="Network")
    server.change(document.uri, [change], 2)
    assert b'[ "Network" ]' in document.text
    assert not [d for d in server.diagnostics(document) if d.code == "unknown-category"]


def test_the_query_index_follows_edits_around_pipes() -> None:
    text = (
        b'{ lib, clanLib, }:\n{\n  _class = "clan.service";\n'
        b"  roles.s.perInstance = { settings, ... }: {\n"
        b"    nixosModule.x = settings.names |> map (n: clanLib.buildScopeKey { serviceName = n; }) |> lib.concat;\n"
        b"    nixosModule.y = toString <| lib.length <| settings.list;\n  };\n}\n"
    )
    # quotes and comment marks move pipes in and out of text, where a kept stand-in is text too
    assert_repairs_follow_random_edits(text, 6, [b"", b"x", b" |> f", b"<| ", b"|", b">", b";", b'"', b"#", b"\n", b"''"])


def assert_repairs_follow_random_edits(text: bytes, seeds: int, inserts: list[bytes]) -> None:
    """Random edits of a text whose parse has repaired bytes (pipes, trailing commas): the
    syntax errors are a fresh parse's, so is the tree (on valid text: on broken text
    tree-sitter's incremental recovery may differ), and the index is one built afresh."""
    import random

    from clan_lsp.syntax.queries import SyntaxIndex

    for seed in range(seeds):
        rng = random.Random(seed)
        tree = SyntaxTree(text)
        assert tree.syntax_errors() == []
        tree.index  # noqa: B018 - build it, so that edits update it
        for _ in range(60):
            start = rng.randrange(len(tree.text) + 1)
            end = min(len(tree.text), start + rng.choice([0, 0, 1, 2]))
            tree.edit(start, end, rng.choice(inserts))
            fresh = SyntaxTree(tree.text)
            assert bool(tree.syntax_errors()) == bool(fresh.syntax_errors())
            assert tree.index.spans() == SyntaxIndex.build(tree.model_root, tree.text).spans()
            if not fresh.root.has_error:
                assert str(tree.root) == str(fresh.root)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_edits_on_many_lines_match_a_fresh_parse(newline: bytes) -> None:
    """The rows tree-sitter is told come from the line index when lines end at `\\n` only,
    else they are counted: either way the tree is the one a fresh parse gives."""
    import random

    lines = [b"{", b"  a = 1;", b"  b = { c = \"x\"; };", b"  d = [ 1 2 ];", b"}"]
    tree = SyntaxTree(newline.join(lines) + newline)
    tree.line_index  # noqa: B018 - kept up to date from here on
    rng = random.Random(len(newline))
    for _ in range(40):
        at = rng.randrange(len(tree.text) + 1)
        end = min(len(tree.text), at + rng.randrange(0, 3))
        tree.edit(at, end, rng.choice([b"x", b"", newline, b"e = 2;" + newline, b" "]))
        assert str(tree.root) == str(SyntaxTree(tree.text).root)
        assert [tuple(n.start_point) for n in walk(tree.root)] == [tuple(n.start_point) for n in walk(SyntaxTree(tree.text).root)]


def test_blanked_trailing_commas_follow_edits() -> None:
    """A trailing formal comma stays blanked for the parser while it still ends formals,
    and is shown again as soon as it does not (a formal typed after it, its braces
    broken): the tree is always a fresh parse's, and so are the facts."""
    text = b"{ lib, clanLib,\n}:\n{\n  roles.s.perInstance = { settings, machine, }: {\n    x = f { a = 1; };\n  };\n}\n"
    # a comma outside formals is an error: the errors must be a fresh parse's
    assert_repairs_follow_random_edits(text, 8, [b"", b"x", b" ", b",", b", b", b"}", b"{", b"[", b"]", b"=", b"...", b"\n", b"#", b":"])


def test_a_formal_typed_after_a_trailing_comma_sees_the_comma() -> None:
    tree = SyntaxTree(b"{ lib, }: lib")
    tree.edit(7, 7, b"pkgs ")
    assert tree.text == b"{ lib, pkgs }: lib"
    assert tree.syntax_errors() == [] and str(tree.root) == str(SyntaxTree(tree.text).root)
    tree.edit(7, 12, b"")  # trailing again
    assert tree.syntax_errors() == [] and str(tree.root) == str(SyntaxTree(tree.text).root)
    tree.edit(0, 1, b"[")  # no formals any more: `[ lib, }: lib`
    assert tree.syntax_errors() != []
    tree.edit(7, 13, b"]")  # `[ lib, ]`: the comma is an error of the list
    assert tree.text == b"[ lib, ]" and tree.syntax_errors() != []
    tree = SyntaxTree(b"{ a, }: x")
    tree.edit(3, 3, b" = 1;")  # `{ a = 1;, }: x`
    tree.edit(11, 14, b"")  # `{ a = 1;, }`: an attribute set, where the comma is an error
    assert tree.text == b"{ a = 1;, }" and tree.syntax_errors() != []
