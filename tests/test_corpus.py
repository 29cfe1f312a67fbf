"""Opt-in: zero errors over a real corpus (set CLAN_LSP_CORPUS to a clan-core checkout).

clan-core is not part of this repository, so CI skips this; developers run it before
saying a rule is done: every module clan accepts must get no error.
"""

from __future__ import annotations

import os

import pytest

from clan_lsp.cli import check

CORPUS = os.environ.get("CLAN_LSP_CORPUS")


@pytest.mark.skipif(not CORPUS, reason="set CLAN_LSP_CORPUS to a clan-core checkout")
def test_no_errors_on_the_corpus(tmp_path) -> None:
    out = tmp_path / "out.txt"
    with open(out, "w") as handle, open(os.devnull, "w") as err:
        status = check([CORPUS], out=handle, err=err)
    errors = [line for line in out.read_text().splitlines() if "error[" in line]
    assert errors == [] and status == 0
