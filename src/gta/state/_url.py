"""Choosing a state backend from what the user wrote: a bare path, ``sqlite:///PATH`` or
``postgresql://...`` (``--state``, ``state = "..."`` in the sync config).

``sqlite://`` is followed by an absolute path (``sqlite:///var/lib/gta/state.db``); a relative
file is given as a bare path. A PostgreSQL URL is libpq's; its password comes from
``PGPASSWORD``, ``~/.pgpass`` (libpq's own lookups), or a reference in the URL
(``postgresql://gta:env:GTA_PG_PASSWORD@db/gta``, ``?password=file:/run/secrets/pg``). A literal
password in the URL is refused: it would sit in a config file or a process's arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from gta._secrets import SecretError, is_reference, resolve_secret
from gta._urls import redact_url
from gta.state._errors import StateError
from gta.state._rules import DEFAULT_LEASE_TTL_S
from gta.state._store import CheckpointStore

POSTGRES_SCHEMES = ("postgresql", "postgres")


class StateUrlError(StateError, ValueError):
    """``--state``/``state =`` cannot name a state (unknown scheme, malformed URL): a usage
    error, nothing was opened."""


def default_state_path() -> Path:
    """``$GTA_STATE_DIR/state.db``, else ``$XDG_STATE_HOME/gta/state.db``, else
    ``~/.local/state/gta/state.db``."""
    explicit = os.environ.get("GTA_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser() / "state.db"
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "gta" / "state.db"


@dataclass(frozen=True)
class StateLocation:
    """Where a state is: a SQLite file (``path``) or a PostgreSQL URL (``url``, with password
    references still unresolved; ``shown`` is safe to print)."""

    path: Path | None = None
    url: str | None = None

    @property
    def shown(self) -> str:
        return str(self.path) if self.path is not None else redact_state_url(self.url or "")


def _scheme(text: str) -> str | None:
    head, sep, _ = text.partition("://")
    return head.lower() if sep and head.replace("+", "").isalnum() else None


def parse_state(value: str | os.PathLike[str] | None) -> StateLocation:
    """The state ``value`` names (None: the default file), or StateUrlError."""
    if value is None:
        return StateLocation(path=default_state_path())
    text = os.fspath(value)
    scheme = _scheme(text)
    if scheme is None:
        if not text.strip():
            raise StateUrlError("the state location is empty; give a file path or a URL")
        return StateLocation(path=Path(text).expanduser())
    if scheme == "sqlite":
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise StateUrlError(
                f"state URL {redact_state_url(text)!r}: sqlite:// takes an absolute path "
                "(sqlite:///var/lib/gta/state.db); give a relative file as a bare path"
            )
        return StateLocation(path=Path(unquote(rest)))
    if scheme in POSTGRES_SCHEMES:
        _check_postgres_url(text)
        return StateLocation(url=text)
    raise StateUrlError(
        f"state URL {redact_state_url(text)!r}: unknown scheme {scheme!r}; give a file path, "
        "sqlite:///PATH or postgresql://USER@HOST/DATABASE"
    )


def _check_postgres_url(text: str) -> None:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise StateUrlError(f"state URL {redact_state_url(text)!r}: {exc}") from None
    password = _password_of(parts.netloc)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for given in (password, query.get("password")):
        if given is not None and not is_reference(unquote(given)):
            raise StateUrlError(
                f"state URL {redact_state_url(text)!r} holds a password; put it in PGPASSWORD "
                "or ~/.pgpass, or write env:NAME or file:PATH in its place"
            )


def _password_of(netloc: str) -> str | None:
    userinfo, at, _ = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    return userinfo.split(":", 1)[1]


def redact_state_url(url: str) -> str:
    """The URL without any password (in the userinfo or the query): safe in messages."""
    return redact_url(url, keep_user=True)


def connection_target(url: str) -> tuple[str, str | None]:
    """libpq's URL without password references, and the password they resolve to (None:
    libpq finds it in PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(url)
    password: str | None = None
    netloc = parts.netloc
    given = _password_of(netloc)
    if given is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = next((v for k, v in query if k == "password"), given)
    query = [(k, v) for k, v in query if k != "password"]
    if given is not None:
        try:
            password = resolve_secret(unquote(given), "state URL password")
        except SecretError as exc:
            raise StateError(f"state {redact_state_url(url)}: {exc}") from None
    target = urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(query, quote_via=quote), parts.fragment)
    )
    return target, password


def open_state(
    value: str | os.PathLike[str] | None = None, *, lease_ttl: float = DEFAULT_LEASE_TTL_S
) -> CheckpointStore:
    """The state store ``value`` names: a bare path or ``sqlite:///PATH`` (SQLite, the default
    file when None) or ``postgresql://...`` (needs ``pip install 'gta[postgres]'``).

    StateUrlError for a value that names no state; StateError when it cannot be opened."""
    location = parse_state(value)
    if location.path is not None:
        from gta.state._sqlite import SqliteBackend

        return CheckpointStore(lease_ttl=lease_ttl, backend=SqliteBackend(location.path))
    assert location.url is not None
    from gta.state._postgres import PostgresBackend

    return CheckpointStore(lease_ttl=lease_ttl, backend=PostgresBackend(location.url))
