"""How ``gta ... --help`` reads: plain text in the style of ``gh`` and ``llm``.

Typer's own help shows Python types (``<str>``, ``<list[str]>``, ``<int range> [x>=0]``) and
``{name}`` for required arguments. Every command and group of ``gta`` is built from the classes
here instead (:class:`GtaTyper` makes them the default), so each option reads as its flag and a
metavar a person understands (``--to URL``, ``--limit N``, ``--format [table|json]``), flags have
no metavar, and the ``Examples:`` paragraph of a docstring is printed verbatim after the options.

Metavars come from, in order: the ``metavar=`` of the option; the choices of an enum
(``[a|b|c]``); the type (``PATH``, ``N``, ``NUMBER``); else the option's own name in capitals.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from enum import Enum
from pathlib import PurePath
from typing import Any, get_args, get_origin

import typer
from typer._click import Context, HelpFormatter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = [
    "GtaCommand",
    "GtaGroup",
    "GtaTyper",
    "metavar_of",
    "split_examples",
]

_EXAMPLES = re.compile(r"^\s*Examples?:\s*$", re.MULTILINE)
_CommandDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def split_examples(text: str | None) -> tuple[str, list[str]]:
    """(description, example lines) of a docstring whose last section is ``Examples:``."""
    cleaned = inspect.cleandoc(text or "")
    match = _EXAMPLES.search(cleaned)
    if match is None:
        return cleaned, []
    lines = [line.strip() for line in cleaned[match.end() :].splitlines()]
    return cleaned[: match.start()].rstrip(), [line for line in lines if line]


def _element(annotation: Any) -> Any:
    """``list[X] | None`` -> ``X``; anything else unchanged."""
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is not list and len(args) == 1:
        annotation = args[0]
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    return annotation


def metavar_of(param: TyperOption | TyperArgument) -> str:
    """The metavar shown after an option (or for an argument); empty for a flag."""
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    if param.metavar:
        return param.metavar
    descriptor = param.type_descriptor
    choices = descriptor.choices
    if choices:
        shown = [str(c.value) if isinstance(c, Enum) else str(c) for c in choices]
        return f"[{'|'.join(shown)}]"
    kind = _element(descriptor.annotation)
    if isinstance(kind, type) and issubclass(kind, PurePath):
        return "PATH"
    if kind is int:
        return "N"
    if kind is float:
        return "NUMBER"
    longs = [opt for opt in getattr(param, "opts", []) if opt.startswith("--")]
    name = longs[0][2:] if longs else str(param.name or "value")
    return name.replace("-", "_").upper()


def _range(param: TyperOption | TyperArgument) -> str:
    low, high = param.min, param.max
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return ""


def _default(param: TyperOption) -> str:
    if not param.show_default or param.required or param.is_flag:
        return ""
    if isinstance(param.show_default, str):
        return param.show_default
    value = param.default
    if value is None or value == [] or callable(value):
        return ""
    return str(value.value if isinstance(value, Enum) else value)


def _option_row(param: TyperOption) -> tuple[str, str]:
    shorts = [opt for opt in param.opts if not opt.startswith("--")]
    longs = [opt for opt in param.opts if opt.startswith("--")]
    names = ", ".join([*shorts, *longs, *param.secondary_opts])
    if not shorts:
        names = "    " + names  # long options line up under the long option of "-x, --xyz"
    metavar = metavar_of(param)
    extra = [
        item
        for item in (
            f"default: {_default(param)}" if _default(param) else "",
            _range(param),
            "repeatable" if param.multiple else "",
            "required" if param.required else "",
        )
        if item
    ]
    help_text = " ".join((param.help or "").split())
    if extra:
        help_text = f"{help_text}  [{'; '.join(extra)}]".strip()
    return (f"{names} {metavar}" if metavar else names), help_text


def _argument_row(param: TyperArgument) -> tuple[str, str]:
    help_text = " ".join((param.help or "").split())
    return _argument_usage(param).strip("[]"), help_text


def _argument_usage(param: TyperArgument) -> str:
    name = metavar_of(param)
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if param.required else f"[{name}]"


class _GtaHelp:
    """The help layout shared by commands and groups (a mixin over Typer's classes)."""

    params: list[Any]
    help: str | None
    options_metavar: str | None

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar or "[OPTIONS]"]
        pieces += [_argument_usage(p) for p in self.params if isinstance(p, TyperArgument)]
        return pieces

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        description, examples = split_examples(self.help)
        self.format_usage(ctx, formatter)  # type: ignore[attr-defined]
        if description:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(description)
        arguments = [
            _argument_row(p)
            for p in self.params
            if isinstance(p, TyperArgument) and not p.hidden and p.help
        ]
        options = [
            _option_row(p)
            for p in self.get_params(ctx)  # type: ignore[attr-defined]
            if isinstance(p, TyperOption) and not p.hidden
        ]
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)
        self._format_commands(ctx, formatter)
        if examples:
            with formatter.section("Examples"):
                for line in examples:  # verbatim: a command line must not be re-wrapped
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")

    def _format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Groups list their commands; a plain command has none."""


class GtaCommand(_GtaHelp, TyperCommand):
    """A Typer command with ``gta``'s help layout."""


class GtaGroup(_GtaHelp, TyperGroup):
    """A Typer group with ``gta``'s help layout; lists its commands after the options."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), self.subcommand_metavar]

    def _format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = [(name, summary) for name, summary in self.command_summaries(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def command_summaries(self, ctx: Context) -> list[tuple[str, str]]:
        """(name, one-line summary) of each visible command, in registration order."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, summary_of(command.short_help or command.help)))
        return rows


def summary_of(text: str | None) -> str:
    """The first sentence of a help text (up to the first period followed by a space)."""
    description, _ = split_examples(text)
    first = " ".join(description.split("\n\n")[0].split())
    head, dot, _rest = first.partition(". ")
    return head + ("." if dot else "")


class GtaTyper(typer.Typer):
    """A :class:`typer.Typer` whose groups and commands use ``gta``'s help layout.

    Commands added later by anyone (``app.command(...)``) get it too: the command class is the
    default of :meth:`command`, not something each declaration has to remember.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", GtaGroup)
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(**kwargs)

    def command(  # type: ignore[override]
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> _CommandDecorator:
        return super().command(name, cls=cls or GtaCommand, **kwargs)
