"""The export-graph fixture clans: clean/ beside this file, and the variants of variants.toml."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from workspace_variants import VariantSet  # noqa: E402

GRAPH = Path(__file__).resolve().parent
_GRAPH = VariantSet(GRAPH)
CLEAN = _GRAPH.clean
VARIANTS = _GRAPH.variants
names = _GRAPH.names
materialize = _GRAPH.materialize
