"""The public face of gta.sync is what __all__ says; this pins it so a change is deliberate."""

import gta.sync


def test_public_names() -> None:
    assert sorted(gta.sync.__all__) == sorted(
        [
            "STREAMS", "STREAM_NAMES", "AlertCursor", "AlertTimeCursor", "Checkpoint",
            "CheckpointStore", "ConfigError", "CursorFormatError", "Enricher", "FetchedPage", "Job",
            "JobConfig", "LeaseHeldError", "LeaseInfo", "LeaseLostError", "LruCache", "MsnCursor",
            "NullReporter", "PageContext", "Reporter", "StateError", "Stream", "StreamResult",
            "StreamSpec", "SyncClient", "SyncConfig", "TenantConfig", "UnknownStreamError",
            "default_state_path", "expand_streams", "export_job_name", "get_stream",
            "has_alert_cursor", "load_config", "prefetch", "run_job", "run_stream", "scan_alerts",
            # what gta.cli used from private modules (issue #14)
            "ACTIVITY", "DEMO_SEED", "DEFAULT_LEASE_TTL_S", "DemoBackend", "DemoDirError",
            "describe_gaps", "prepare_demo_dir", "sync_demo_streams", "sync_tuning",
            "MAX_CONCURRENCY", "check_lease_ttl", "parse_interval", "DestinationLeases",
            "run_schedule",
            # workers (issue #16)
            "MAX_WORKER_ID", "WORKERS_JOB", "CommitLog", "Unit", "Worker", "check_worker_config",
            "shared_destination", "units_of",
            # loaded on first use (prometheus_client)
            "SyncMetrics", "MetricsAddressError", "MetricsServer", "is_loopback",
            "parse_metrics_address",
        ]
    )  # fmt: skip
    for name in gta.sync.__all__:
        assert hasattr(gta.sync, name)
