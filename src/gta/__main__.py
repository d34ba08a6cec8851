"""``python -m gta``: the same as the ``gta`` command."""

from gta.cli import main

main()
