"""bench/instructions.py's child program runs (without valgrind): its template is filled in
and the keystrokes run as the server's didChange and publish do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import instructions  # noqa: E402


def test_the_counted_program_runs_a_few_keystrokes() -> None:
    fixture = ROOT / "tests" / "fixtures" / "clean" / "full-featured.nix"
    program = instructions.child_program(fixture, None, 4)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
