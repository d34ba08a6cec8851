"""The shared strict HEC receiver (tests/_support/hec_receiver.py), under this folder's name."""

from __future__ import annotations

from tests._support.hec_receiver import HecState, run_receiver

__all__ = ["HecState", "run_receiver"]
