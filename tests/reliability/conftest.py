"""Fixtures of the reliability suite (see docs/reliability.md)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # rel_support is imported by name from the test modules
    sys.path.insert(0, str(HERE))
