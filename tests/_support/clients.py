"""The one way tests build an SDK client on an emulator: the settings the emulator gives."""

from __future__ import annotations

from typing import Any

from gta.client import Client, ClientSettings
from gta.emulator import RunningEmulator


def emulator_settings(emu: RunningEmulator, customer: int = 0) -> ClientSettings:
    """The client settings of one of the emulator's customers (its vendor variables)."""
    return ClientSettings.from_env(emu.env(customer))


def emulator_client(emu: RunningEmulator, customer: int = 0, **options: Any) -> Client:
    """An SDK client on *emu*; ``options`` go to the constructor (``max_retries``,
    ``http_client``, ...)."""
    return Client.from_settings(emulator_settings(emu, customer), **options)
