"""The running emulator: its store, token issuer, fault switches and random sources.

One instance lives on ``app.state.emulator``. Handlers run on the server's event loop thread
only, so the single SQLite connection and the counters need no locks.
"""

from __future__ import annotations

import random

from fastapi import Request

from gta.emulator._activity import Activity
from gta.emulator._auth import TokenIssuer
from gta.emulator._settings import CustomerIdentity, EmulatorSettings, FaultSettings
from gta.emulator._store import Store


class EmulatorState:
    """Everything a request handler needs, built once by ``create_app``."""

    def __init__(self, settings: EmulatorSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.tokens = TokenIssuer(store.identities)
        self.faults: FaultSettings = settings.faults()
        # Separate seeded sources: fault draws never change the data an activity call makes.
        self.fault_rng = random.Random(f"gta-emulator-faults:{settings.seed}")
        self.activity_rng = random.Random(f"gta-emulator-activity:{settings.seed}")
        self.by_customer_id = {i.customer_id: i for i in store.identities}
        self.activity = Activity(store, self.activity_rng, settings.flows_per_event)

    def customer(self, customer_id: str | None) -> CustomerIdentity | None:
        if customer_id is None:
            return self.store.identities[0]
        return self.by_customer_id.get(customer_id)


def state_of(request: Request) -> EmulatorState:
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state
