"""The public exception tree of gta (see ``gta.client._exceptions`` for the picture)."""

from gta.client._exceptions import *  # noqa: F403
from gta.client._exceptions import __all__ as __all__
