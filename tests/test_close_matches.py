"""checks/base.close_matches answers as difflib.get_close_matches does (it skips scoring
candidates that cannot enter the best n)."""

import difflib
import random

from clan_lsp.checks.base import close_matches


def test_close_matches_equal_difflib() -> None:
    rng = random.Random(7)
    for _ in range(500):
        pool = list(dict.fromkeys("".join(rng.choice("abcde-") for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(0, 60))))
        word = "".join(rng.choice("abcde-") for _ in range(rng.randint(1, 8)))
        for n in (1, 3):
            assert close_matches(word, pool, n, 0.6) == difflib.get_close_matches(word, pool, n=n, cutoff=0.6)


def test_a_thousand_machines() -> None:
    pool = [f"machine-{i}" for i in range(1000)]
    assert close_matches("machine-5x", pool) == difflib.get_close_matches("machine-5x", pool, n=3, cutoff=0.6)
