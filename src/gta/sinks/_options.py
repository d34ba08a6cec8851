"""One parser for every sink's options: a pydantic model per sink, fed by the URL query and the
keyword options (options win), with errors that name the option on one line.

A sink declares its options as fields of a :class:`SinkOptions` subclass, each made with
:func:`option` (default, meaning for ``gta sinks list``, and the default as shown when it is not
a plain value). The value types below read what a URL carries (``"true"``, ``"30"``) as well as
what a config file does (``True``, ``30``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from gta.sinks._base import SinkConfigError

__all__ = [
    "Count",
    "Flag",
    "Positive",
    "PositiveInt",
    "SinkOptions",
    "Text",
    "gather_settings",
    "option",
    "parse_options",
    "read_options",
]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE + _FALSE:
        return text in _TRUE
    raise PydanticCustomError("flag", "is not a boolean (use true/false)")


def _number(kind: type[int] | type[float], *, zero: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError, OverflowError):
            raise PydanticCustomError("number", "is not a number") from None
        if number != number or number < 0 or (number == 0 and not zero):  # NaN too
            raise PydanticCustomError("positive", "must be positive")
        return number

    return check


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


#: ``true``/``false`` (also 1/0, yes/no, on/off) or a bool.
Flag = Annotated[bool, BeforeValidator(_flag)]
#: A number above zero.
Positive = Annotated[float, BeforeValidator(_number(float, zero=False))]
PositiveInt = Annotated[int, BeforeValidator(_number(int, zero=False))]
#: A whole number from zero up (``max_retries``).
Count = Annotated[int, BeforeValidator(_number(int, zero=True))]
#: Any value, read as text.
Text = Annotated[str, BeforeValidator(_text)]


class SinkOptions(BaseModel):
    """Base of every sink's options model: unknown names are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def option(default: Any, meaning: str, *, shown: str | None = None, secret: bool = False) -> Any:
    """A field of a :class:`SinkOptions` model. ``shown`` is the default as ``gta sinks list``
    prints it when the value itself says little (``$GTA_SPLUNK_HEC_TOKEN``); a ``secret`` option
    is refused in a URL (a URL ends up in logs and process lists)."""
    if shown is None:
        shown = "-" if default is None else _shown(default)
    return Field(default, description=meaning, json_schema_extra={"shown": shown, "secret": secret})


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def option_names(model: type[SinkOptions]) -> tuple[str, ...]:
    """The options of ``model``: its own first, then those of its bases (TLS, retries)."""
    names: dict[str, None] = {}
    for cls in model.__mro__:
        if isinstance(cls, type) and issubclass(cls, SinkOptions):
            names.update(dict.fromkeys(n for n in vars(cls).get("__annotations__", {})))
    return tuple(name for name in names if name in model.model_fields)


def option_rows(model: type[SinkOptions]) -> list[tuple[str, str, str]]:
    """(name, default as shown, meaning) of each option, in :func:`option_names` order."""
    rows = []
    for name in option_names(model):
        field = model.model_fields[name]
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        rows.append((name, str(extra.get("shown", "-")), field.description or ""))
    return rows


def secret_names(model: type[SinkOptions]) -> tuple[str, ...]:
    """The options that may not be written in a URL."""
    return tuple(
        name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret")
    )


M = TypeVar("M", bound=SinkOptions)


def gather_settings(
    sink: str,
    model: type[SinkOptions],
    query: Iterable[tuple[str, str]],
    options: Mapping[str, Any],
    *,
    refuse_in_url: Callable[[str, str], str | None] | None = None,
    url_word: str = "URL parameter",
) -> dict[str, Any]:
    """The settings from a URL's query pairs and the options (options win), every name checked:
    an unknown one is refused with the list of valid ones; ``refuse_in_url(name, value)`` may
    refuse a query pair (a secret) with its own message; a secret option is not valid there."""
    known = option_names(model)
    in_url = tuple(name for name in known if name not in secret_names(model))
    settings: dict[str, Any] = {}
    for name, value in query:
        lowered = name.lower()
        refused = refuse_in_url(lowered, value) if refuse_in_url is not None else None
        if refused:
            raise SinkConfigError(refused)
        if lowered not in in_url:
            raise SinkConfigError(f"unknown {sink} {url_word} {name!r}; valid: {', '.join(in_url)}")
        settings[lowered] = value
    for name, value in options.items():
        if name not in known:
            raise SinkConfigError(f"unknown {sink} option {name!r}; valid: {', '.join(known)}")
        settings[name] = value
    return settings


def parse_options(sink: str, model: type[M], settings: Mapping[str, Any]) -> M:
    """``model`` from ``settings``; the first problem as one ``SinkConfigError`` naming the
    option (``splunk-hec option timeout='soon' is not a number``)."""
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        raise SinkConfigError(_message(sink, exc)) from None


def read_options(
    sink: str,
    model: type[M],
    query: str,
    options: Mapping[str, Any],
    *,
    refuse_in_url: Callable[[str, str], str | None] | None = None,
    url_word: str = "URL parameter",
) -> M:
    """:func:`gather_settings` from a URL's query string, then :func:`parse_options`."""
    pairs = parse_qsl(query, keep_blank_values=True)
    settings = gather_settings(
        sink, model, pairs, options, refuse_in_url=refuse_in_url, url_word=url_word
    )
    return parse_options(sink, model, settings)


class CaOptions(SinkOptions):
    ca_bundle: Text | None = option(None, "CA bundle (PEM file) to trust instead of the system's")


class TlsOptions(CaOptions):
    insecure: Flag = option(False, "do not verify the TLS certificate")


class RetryOptions(SinkOptions):
    timeout: Positive = option(30.0, "seconds to wait for the destination")
    max_retries: Count = option(8, "retries of a failed send before giving up")
    backoff_base: Positive = option(0.5, "first retry delay, seconds (doubles, with jitter)")
    backoff_cap: Positive = option(30.0, "longest retry delay, seconds")

    def retry_settings(self) -> dict[str, Any]:
        """The fields of :class:`RetrySettings`, for a sink's config."""
        return {
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "backoff_base": self.backoff_base,
            "backoff_cap": self.backoff_cap,
        }


@dataclass(frozen=True, kw_only=True)
class RetrySettings:
    """Base of a network sink's config: how long to wait, how often and how far apart to retry."""

    timeout: float = 30.0
    max_retries: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


def _message(sink: str, exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    name = ".".join(str(part) for part in error["loc"]) or "?"
    value = error.get("input")
    kind = error["type"]
    if kind == "positive":
        return f"{sink} option {name} must be positive, got {value!r}"
    if kind in ("flag", "number"):
        return f"{sink} option {name}={value!r} {error['msg']}"
    if kind == "extra_forbidden":
        return f"unknown {sink} option {name!r}"
    text = " ".join(str(error["msg"]).split())
    return f"{sink} option {name}={value!r}: {text}"
