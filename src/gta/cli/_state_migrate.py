"""``gta state migrate URL_FROM URL_TO``: move checkpoints between state backends."""

from __future__ import annotations

from typing import Annotated

import typer

from gta.cli._confirm import YesOption, confirm_destructive
from gta.cli._errors import CommandError, UsageError
from gta.cli._progress import plural
from gta.cli._run_support import _open_store, state_location
from gta.state import StateError, copy_checkpoints, plan_migration


def state_migrate(
    source: Annotated[
        str, typer.Argument(metavar="URL_FROM", help="The state to copy from (file or URL).")
    ],
    target: Annotated[
        str, typer.Argument(metavar="URL_TO", help="The state to copy into (made if new).")
    ],
    yes: YesOption = False,
) -> None:
    """Copy checkpoints and delivered alerts to another state (SQLite to PostgreSQL or back).

    Refused while a run holds a lease in either state; asks before overwriting.

    Examples:
      gta state migrate ~/.local/state/gta/state.db postgresql://gta@db.example/gta
      gta state migrate postgresql://gta@db.example/gta sqlite:///var/lib/gta/state.db
    """
    where_from, where_to = state_location(source), state_location(target)
    same_file = (
        where_from.path is not None
        and where_to.path is not None
        and (where_from.path.resolve() == where_to.path.resolve())
    )
    if same_file or (where_from.url is not None and where_from.url == where_to.url):
        raise UsageError("URL_FROM and URL_TO are the same state")
    if where_from.path is not None and not where_from.path.exists():
        raise CommandError(f"no state file at {where_from.path}; nothing to migrate")
    with _open_store(source) as origin, _open_store(target) as destination:
        try:
            proposed = plan_migration(origin, destination)
            if proposed.overwritten:
                confirm_destructive(
                    f"overwrite {plural(len(proposed.overwritten), 'checkpoint')} in "
                    f"{destination.location}",
                    yes,
                )
            copied = copy_checkpoints(origin, destination, proposed)
        except StateError as exc:
            raise CommandError(str(exc)) from None
    alerts = f" and {plural(len(proposed.alerts), 'delivered alert')}" if proposed.alerts else ""
    typer.echo(
        f"copied {plural(copied, 'checkpoint')}{alerts} from {origin.location} "
        f"to {destination.location}"
    )
