"""``gta demo``'s start-up: the emulator in this process, handed to the sync-side demo.

The emulator is a CLI concern (like ``gta emulator``): starting it here keeps ``gta.sync`` free
of any dependency on ``gta.emulator``. The sync side gets a ``DemoBackend``: the URL, a client
factory and the admin call that creates activity.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from gta.cli._demo import run_demo
from gta.cli._errors import UsageError
from gta.sync import DEMO_SEED, DemoBackend, prepare_demo_dir, sync_tuning


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", metavar="DIR", help="Where the demo writes.")
    ] = Path("gta-demo"),
    events: Annotated[
        int,
        typer.Option("--events", min=100, max=200_000, help="Events the emulator generates."),
    ] = 20_000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Offline tour: an in-process emulator, a full sync, activity, then an incremental sync.

    Examples:
      gta demo
      gta demo --dir /tmp/gta-demo --events 5000
    """
    with sync_tuning():
        run_emulated_demo(directory, events=events, console=Console(), quiet=quiet)


def run_emulated_demo(
    directory: Path, *, events: int = 20_000, console: Console | None = None, quiet: bool = False
) -> dict[str, Any]:
    """Start a seeded emulator on a free loopback port, run the demo against it, stop it."""
    import gta
    from gta.emulator import EmulatorSettings, run_in_thread

    out = console or Console()
    try:
        prepare_demo_dir(directory)  # a DemoDirError is a usage error (gta.cli._errors)
    except OSError as exc:  # read-only disk, no permission: one line, not a raw errno
        where = exc.filename or directory
        raise UsageError(f"--dir {directory}: cannot write in {where}: {exc.strerror}") from None
    started = time.monotonic()
    if not quiet:
        out.print(
            f"[bold]gta demo[/]: emulator with {events:,} seeded events, "
            f"output in {escape(str(directory))}/",
            highlight=False,
        )
    settings = EmulatorSettings(seed=DEMO_SEED, events=events)
    with run_in_thread(settings, host="127.0.0.1", port=0) as emu:

        def make_client() -> gta.Client:
            # The emulator gives the vendor's variables: the SDK's own settings, as is.
            return gta.Client.from_settings(gta.ClientSettings.from_env(emu.env()))

        def create_activity(activity: dict[str, int]) -> Any:
            response = httpx.post(f"{emu.url}/_emulator/activity", json=activity, timeout=60)
            response.raise_for_status()
            return response.json()

        backend = DemoBackend(url=emu.url, make_client=make_client, create_activity=create_activity)
        return run_demo(directory, backend, console=out, quiet=quiet, started=started)
