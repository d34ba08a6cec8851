"""Settings of one emulator instance, and the identities of its customers.

Everything the emulator does is decided here: the seed and scale of its data, where the data
lives, the customers and their credentials, background activity and the faults it injects.
The defaults are demo values on purpose: the emulator is a local stand-in, not a vault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gta.emulator._clock import parse_rfc3339

DEMO_CUSTOMER_ID = "CTA000000001"
DEMO_CLIENT_ID = "client-00000000-0000-4000-8000-00000000demo"
DEMO_CLIENT_PASSWORD = "gta-emulator-demo-password"

_CUSTOMER_ID = re.compile(r"^CTA\d{9}$")
_EARLIEST_START_MS = parse_rfc3339("1971-01-01T00:00:00Z")
_LATEST_START_MS = parse_rfc3339("9000-01-01T00:00:00Z")

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
# The largest API body is a search with 1,000 ids (about 70 kB): 10 MiB leaves room to spare.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


class FaultSettings(BaseModel):
    """Fault injection switches; all off by default. Rates are probabilities per request."""

    model_config = ConfigDict(extra="forbid")

    error_rate: Rate = 0.0
    rate_limit_rate: Rate = 0.0
    reset_rate: Rate = 0.0
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    token_ttl: Annotated[int, Field(ge=1, le=86_400)] = 600
    retry_after: Annotated[int, Field(ge=0, le=3_600)] = 1


class EmulatorSettings(FaultSettings):
    """How to build and run one emulator.

    ``events`` is the scale: assets, threat detections, alerts and flows are derived from it,
    per customer. The same ``seed`` (and scale) always gives the same data.
    """

    seed: int = 1
    events: Annotated[int, Field(ge=0, le=50_000_000)] = 10_000
    flows_per_event: Annotated[float, Field(ge=0.0, le=50.0)] = 2.0
    customers: Annotated[int, Field(ge=1, le=100)] = 1
    customer_id: str = DEMO_CUSTOMER_ID
    client_id: Annotated[str, Field(min_length=1, max_length=200)] = DEMO_CLIENT_ID
    client_password: Annotated[str, Field(min_length=1, max_length=200)] = DEMO_CLIENT_PASSWORD
    db_path: Path | None = None
    activity_per_minute: Annotated[float, Field(ge=0.0, le=600_000.0)] = 0.0
    clock_start: str = "seed"
    """``seed`` (a fixed instant derived from the seed), ``now``, or an RFC 3339 instant."""
    max_body_bytes: Annotated[int, Field(ge=1, le=1 << 30)] = DEFAULT_MAX_BODY_BYTES
    """Largest request body accepted; a larger one is a 413 before it is read."""
    admin_token: SecretStr | None = None
    """When set, every ``/_emulator`` admin call must send ``Authorization: Bearer <token>``."""

    @field_validator("customer_id")
    @classmethod
    def _check_customer_id(cls, value: str) -> str:
        if not _CUSTOMER_ID.match(value):
            raise ValueError("customer id must look like CTA followed by 9 digits")
        return value

    @field_validator("admin_token")
    @classmethod
    def _check_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not 16 <= len(value.get_secret_value()) <= 512:
            raise ValueError("the admin token must be 16 to 512 characters long")
        return value

    @field_validator("clock_start")
    @classmethod
    def _check_clock_start(cls, value: str) -> str:
        if value not in ("seed", "now"):
            try:
                start_ms = parse_rfc3339(value)
            except (ValueError, OverflowError):
                raise ValueError("use 'seed', 'now' or an RFC 3339 instant") from None
            # The history spans 30 days before the start and the clock moves on from it: keep
            # both inside what timestamps (and Python's datetime) can express.
            if not _EARLIEST_START_MS <= start_ms <= _LATEST_START_MS:
                raise ValueError("the instant must be between 1971-01-01 and 9000-01-01")
        return value

    def __repr__(self) -> str:
        # The password never appears in a repr, even though it is a demo value by default.
        return (
            f"EmulatorSettings(seed={self.seed}, events={self.events}, customers={self.customers})"
        )

    __str__ = __repr__

    def faults(self) -> FaultSettings:
        """The fault part of these settings (the initial state of ``PUT /_emulator/faults``)."""
        return FaultSettings.model_validate(
            {k: getattr(self, k) for k in FaultSettings.model_fields}
        )

    def identities(self) -> list[CustomerIdentity]:
        """One identity per customer: the first uses the given ids, the others derive from them."""
        base = int(self.customer_id[3:])
        out = []
        for index in range(self.customers):
            suffix = "" if index == 0 else f"-{index + 1}"
            out.append(
                CustomerIdentity(
                    index=index,
                    customer_id=f"CTA{(base + index) % 1_000_000_000:09d}",
                    client_id=self.client_id + suffix,
                    client_password=self.client_password + suffix,
                )
            )
        return out


@dataclass(frozen=True)
class CustomerIdentity:
    """A customer of the emulator and the API client credentials that reach it."""

    index: int
    customer_id: str
    client_id: str
    client_password: str

    def __repr__(self) -> str:
        return f"CustomerIdentity(index={self.index}, customer_id={self.customer_id!r})"
