"""An offline emulator of the Cisco Global Threat Alerts API (see docs/emulator.md).

It meets the SDK only over HTTP: nothing here imports ``gta.client``.
"""

from gta.emulator._admin import check_admin_exposure
from gta.emulator._app import create_app
from gta.emulator._schema import EmulatorDatabaseError
from gta.emulator._server import (
    RunningEmulator,
    bind,
    client_env,
    run_in_thread,
    server_config,
    url_of,
)
from gta.emulator._settings import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_PASSWORD,
    DEMO_CUSTOMER_ID,
    CustomerIdentity,
    EmulatorSettings,
    FaultSettings,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_PASSWORD",
    "DEMO_CUSTOMER_ID",
    "CustomerIdentity",
    "EmulatorDatabaseError",
    "EmulatorSettings",
    "FaultSettings",
    "RunningEmulator",
    "bind",
    "check_admin_exposure",
    "client_env",
    "create_app",
    "run_in_thread",
    "server_config",
    "url_of",
]
