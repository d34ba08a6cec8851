"""URLs made safe to show: what ``gta.sinks`` and ``gta.state`` print and store in place of a
URL that may carry a secret. Below every package, so each can use it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_WORDS = ("token", "password", "secret", "key")


def redact_url(url: str, *, keep_user: bool = False) -> str:
    """The URL with its userinfo (``keep_user``: only its password) and the query values whose
    names look secret replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        shown = (user + (":***" if has_password else "")) if keep_user else "***"
        netloc = f"{shown}@{host}"
    query = [
        (k, "***" if any(w in k.lower() for w in SECRET_WORDS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(query, safe="*"), parts.fragment)
    )
