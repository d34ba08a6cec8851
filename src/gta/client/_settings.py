"""``ClientSettings``: the one description of a tenant a :class:`gta.Client` is built from.

Every way to get a client ends here: ``Client.from_env`` (the vendor's variables), the triage
commands' profiles (``gta.cli``), the sync file's tenants (``TenantConfig.client_settings``) and
the demo. The password (and a proxy URL, which may carry credentials) is a pydantic
``SecretStr``, gta's one secret type: it never shows in a repr, a log line or an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from gta.client._exceptions import ConfigurationError

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_APP_URL",
    "ENV_API_URL",
    "ENV_APP_URL",
    "ENV_CA_BUNDLE",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_PASSWORD",
    "ENV_CUSTOMER_ID",
    "ENV_PROXY",
    "ENV_SECUREX_HOST",
    "ClientSettings",
]

DEFAULT_API_URL = "https://api.cta.eu.amp.cisco.com"
DEFAULT_APP_URL = "https://cta.eu.amp.cisco.com"

ENV_CLIENT_ID = "SECUREX_CLIENT_ID"
ENV_CLIENT_PASSWORD = "SECUREX_CLIENT_PASSWORD"
ENV_SECUREX_HOST = "SECUREX_VISIBILITY_HOST_NAME"
ENV_CUSTOMER_ID = "GTA_CUSTOMER_ID"
ENV_API_URL = "GTA_API_URL"
ENV_APP_URL = "GTA_APP_URL"
ENV_PROXY = "GTA_PROXY"
ENV_CA_BUNDLE = "GTA_CA_BUNDLE"


@dataclass(frozen=True)
class ClientSettings:
    """A tenant's credentials, hosts and network; ``None`` means the client's default.

    ``securex_host`` is the SecureX visibility host that issues tokens (with or without a
    scheme); ``customer_id`` is discovered when not given; ``timeout`` is the deadline of each
    request attempt in seconds (or an ``httpx.Timeout``); ``proxy`` and ``ca_bundle`` as
    :class:`gta.Client` takes them. Values are checked when the client is built, each error one
    line naming the setting.
    """

    client_id: str
    client_password: SecretStr = field(repr=False)
    securex_host: str
    api_url: str = DEFAULT_API_URL
    app_url: str = DEFAULT_APP_URL
    customer_id: str | None = None
    timeout: float | httpx.Timeout | None = None
    max_retries: int | None = None
    proxy: SecretStr | None = field(default=None, repr=False)  # may carry credentials
    ca_bundle: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        # A plain string is accepted where a secret goes, and wrapped at once.
        for name in ("client_password", "proxy"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, SecretStr(value))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientSettings:
        """The settings the vendor's environment variables give, plus the ``GTA_*`` ones.

        Required: SECUREX_CLIENT_ID, SECUREX_CLIENT_PASSWORD, SECUREX_VISIBILITY_HOST_NAME.
        Optional: GTA_CUSTOMER_ID, GTA_API_URL, GTA_APP_URL, GTA_PROXY, GTA_CA_BUNDLE.
        """
        from gta.client._client import normalize_url

        env = os.environ if environ is None else environ
        required = (ENV_CLIENT_ID, ENV_CLIENT_PASSWORD, ENV_SECUREX_HOST)
        missing = [name for name in required if not env.get(name, "").strip()]
        if missing:
            raise ConfigurationError(
                f"missing environment variable{'s' if len(missing) > 1 else ''}: "
                f"{', '.join(missing)} (see the GTA API guide for how to create an API client)"
            )
        api_url = env.get(ENV_API_URL, "").strip()
        app_url = env.get(ENV_APP_URL, "").strip()
        proxy = env.get(ENV_PROXY, "").strip()
        return cls(
            client_id=env[ENV_CLIENT_ID].strip(),
            client_password=SecretStr(env[ENV_CLIENT_PASSWORD]),
            # Normalised here so that a bad value is reported under its variable's name.
            securex_host=normalize_url(env[ENV_SECUREX_HOST], ENV_SECUREX_HOST),
            api_url=normalize_url(api_url, ENV_API_URL) if api_url else DEFAULT_API_URL,
            app_url=normalize_url(app_url, ENV_APP_URL) if app_url else DEFAULT_APP_URL,
            customer_id=env.get(ENV_CUSTOMER_ID, "").strip() or None,
            proxy=SecretStr(proxy) if proxy else None,
            ca_bundle=env.get(ENV_CA_BUNDLE, "").strip() or None,
        )

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments of ``Client(...)`` these settings give (secrets revealed: for
        the constructor only)."""
        options: dict[str, Any] = {
            "client_id": self.client_id,
            "client_password": self.client_password.get_secret_value(),
            "securex_host": self.securex_host,
            "api_url": self.api_url,
            "app_url": self.app_url,
            "customer_id": self.customer_id,
        }
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        if self.proxy is not None:
            options["proxy"] = self.proxy.get_secret_value()
        if self.ca_bundle is not None:
            options["ca_bundle"] = self.ca_bundle
        return options
