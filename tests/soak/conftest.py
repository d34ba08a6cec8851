"""The soak test reuses the reliability suite's helpers (emulator process, raw API, readers)."""

from __future__ import annotations

import sys
from pathlib import Path

_RELIABILITY = str(Path(__file__).resolve().parent.parent / "reliability")
if _RELIABILITY not in sys.path:
    sys.path.insert(0, _RELIABILITY)
