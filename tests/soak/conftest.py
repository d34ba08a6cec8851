"""The soak test reuses the reliability suite's helpers (emulator process, raw API, readers),
imported as ``tests.reliability.rel_*``."""
