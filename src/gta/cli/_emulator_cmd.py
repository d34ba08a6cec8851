"""``gta emulator ...`` (filled by the emulator work)."""

import typer

app = typer.Typer(help="Run a faithful offline server of the GTA API.", no_args_is_help=True)
