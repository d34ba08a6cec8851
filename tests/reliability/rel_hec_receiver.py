"""Re-export of the sinks helper's HEC receiver (tests/sinks/hec_receiver.py), importable from
this folder by a unique name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parent.parent / "sinks" / "hec_receiver.py"
_spec = importlib.util.spec_from_file_location("_rel_sinks_hec_receiver", _PATH)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
sys.modules["_rel_sinks_hec_receiver"] = _module
_spec.loader.exec_module(_module)

HecState = _module.HecState
run_receiver = _module.run_receiver

__all__ = ["HecState", "run_receiver"]
