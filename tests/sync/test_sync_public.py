"""The public face of gta.sync is what __all__ says; this pins it so a change is deliberate."""

import gta.sync


def test_public_names() -> None:
    assert sorted(gta.sync.__all__) == sorted(
        [
            "STREAM_NAMES", "AlertCursor", "Checkpoint", "CheckpointStore", "ConfigError",
            "CursorFormatError", "Enricher", "FetchedPage", "Job", "JobConfig", "LeaseHeldError",
            "LeaseInfo", "LeaseLostError", "LruCache", "NullReporter", "PageContext", "Reporter",
            "StateError", "Stream",
            "StreamResult", "SyncConfig", "TenantConfig", "UnknownStreamError",
            "default_state_path", "expand_streams", "export_job_name", "get_stream",
            "load_config", "prefetch", "run_job", "run_stream",
            # what gta.cli used from private modules (issue #14)
            "ACTIVITY", "DEMO_SEED", "DEFAULT_LEASE_TTL_S", "DemoBackend", "DemoDirError",
            "describe_gaps", "prepare_demo_dir", "sync_demo_streams", "sync_tuning",
        ]
    )  # fmt: skip
    for name in gta.sync.__all__:
        assert hasattr(gta.sync, name)
