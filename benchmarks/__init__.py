"""Benchmarks behind ``make bench``: real processes, each figure against a same-run baseline.

Not tests: nothing here uses pytest. The benchmarks reuse the tests' stand-ins and process
helpers (``tests/support``), so ``tests`` goes on the import path; it goes last, so that the
checkout's ``webhook``/``workers``/``report`` packages are the ones found.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

for _path, _first in ((ROOT, True), (ROOT / "tests", False)):
    if str(_path) not in sys.path:
        if _first:
            sys.path.insert(0, str(_path))
        else:
            sys.path.append(str(_path))
