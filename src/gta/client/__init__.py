"""The gta SDK: a typed, resilient client for the Cisco Global Threat Alerts API.

>>> import gta
>>> client = gta.Client.from_env()          # doctest: +SKIP
>>> for alert in client.alerts.list():      # doctest: +SKIP
...     print(alert.id, alert.risk, alert.status.value)

Everything public is listed in ``__all__``; the ``_modules`` behind it are private.
"""

from gta.client._client import Client
from gta.client._exceptions import (
    ApiConnectionError,
    ApiError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    GtaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
)
from gta.client._models import (
    Alert,
    AlertStatus,
    Asset,
    Event,
    Flow,
    Page,
    PageInfo,
    SecurityAnnotation,
    ThreatDetection,
    ThreatIntelRecord,
)
from gta.client._network import check_proxy_url, redact_proxy
from gta.client._pagination import Pager, SearchResults
from gta.client._retry import (
    RETRY_AFTER_CAP,
    Runtime,
    backoff_delay,
    is_retryable_exception,
    is_retryable_status,
    is_tls_verification_failure,
    parse_retry_after,
    token_refresh_delay,
)
from gta.client._settings import ClientSettings

__all__ = [
    "RETRY_AFTER_CAP",
    "Alert",
    "AlertStatus",
    "ApiConnectionError",
    "ApiError",
    "ApiStatusError",
    "ApiTimeoutError",
    "Asset",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientSettings",
    "ConfigurationError",
    "Event",
    "Flow",
    "GtaError",
    "NotFoundError",
    "Page",
    "PageInfo",
    "Pager",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "Runtime",
    "SearchResults",
    "SecurityAnnotation",
    "ServerError",
    "ThreatDetection",
    "ThreatIntelRecord",
    "backoff_delay",
    "check_proxy_url",
    "is_retryable_exception",
    "is_retryable_status",
    "is_tls_verification_failure",
    "parse_retry_after",
    "redact_proxy",
    "token_refresh_delay",
]
