"""`python bench/recordings.py` puts bench/ first on sys.path, where `recordings` would be this
benchmark itself rather than the package: import this module first to take bench/ out."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
_ROOT = str(_HERE.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
