"""Process tuning for syncs: one malloc arena, and a cyclic collector that stays cheap for the
length of a sync and is handed back unchanged after it."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import pytest

from gta.sync._memory import GC_THRESHOLD, sync_tuning


class Node:
    """Something that can sit in a reference cycle and be watched with a weak reference."""

    other: Node | None = None


def test_sync_tuning_freezes_the_imports_for_the_block_and_restores_the_collector() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with sync_tuning():
        assert gc.get_threshold() == (GC_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 1000  # the imported modules are out of the collector's way
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_cycle_left_during_the_block_is_collected_after_it() -> None:
    with sync_tuning():
        a, b = Node(), Node()
        a.other, b.other = b, a
        watched = weakref.ref(a)
        del a, b
    gc.collect()
    assert watched() is None


def test_the_block_restores_the_collector_when_the_sync_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), sync_tuning():
        raise RuntimeError("sink failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_allocator_tuning_applies_once_on_glibc() -> None:
    probe = "from gta.sync._memory import tune_allocator; print(tune_allocator(), tune_allocator())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
