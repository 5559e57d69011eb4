"""What the benchmark scripts share: loading one another by path.

A sibling is loaded from its file, not imported by name: a plain ``import build``
could pick up PyPA's ``build`` package instead of ``benchmarks/build.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent


def load_sibling(file: str) -> ModuleType:
    """``benchmarks/<file>`` as a module named ``benchmarks_<stem>``."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{Path(file).stem}", BENCH_DIR / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
