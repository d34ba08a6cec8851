"""Secret references (``env:NAME``, ``file:PATH``, ``keyring:SERVICE/NAME``), resolved in one place.

The sync config, the CLI profile and the sinks all accept a reference where a secret goes, so a
file or a command line names where the secret is, never the secret itself:

- ``env:NAME``: the environment variable (an error when it is not set);
- ``file:PATH``: the file's content less one trailing ``\\n`` or ``\\r\\n`` (systemd credentials,
  container and Kubernetes secrets). On POSIX the file must not be readable, writable or
  executable by others (``mode & 0o007``): group bits are allowed, since a Kubernetes Secret
  mounted for the pod's ``fsGroup`` is ``0440`` and a systemd service may share a group;
- ``keyring:SERVICE/NAME``: the system keyring, with the optional ``keyring`` package
  (``pip install 'gta[keyring]'``). ``keyring:SERVICE:NAME`` is accepted too.

Any other string is the secret itself. Every error is one line naming the reference (the
variable, the file, the keyring entry), never the secret or the file's content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from gta.errors import InputError

__all__ = [
    "SecretError",
    "is_reference",
    "read_secret_file",
    "resolve_secret",
    "store_in_keyring",
]

MAX_SECRET_FILE_BYTES = 64 * 1024
_KINDS = ("env:", "file:", "keyring:")


class SecretError(InputError, ValueError):
    """A secret reference that cannot be resolved (one line, never the secret)."""


def is_reference(value: str) -> bool:
    """True when *value* names where a secret is (``env:``, ``file:``, ``keyring:``)."""
    return value.startswith(_KINDS)


def resolve_secret(value: str, what: str, env: Mapping[str, str] | None = None) -> str:
    """The secret *value* names (or *value* itself); *what* labels errors (``client_password``)."""
    kind, _, rest = value.partition(":")
    if kind == "env" and value.startswith("env:"):
        environ = os.environ if env is None else env
        if not rest:
            raise SecretError(f"{what}: env: needs a variable name (env:NAME)")
        if rest not in environ:
            raise SecretError(f"{what} env:{rest}: environment variable {rest} is not set")
        return environ[rest]
    if kind == "file" and value.startswith("file:"):
        if not rest:
            raise SecretError(f"{what}: file: needs a path (file:PATH)")
        return read_secret_file(rest, what)
    if kind == "keyring" and value.startswith("keyring:"):
        return _from_keyring(rest, what)
    return value


def read_secret_file(path: str, what: str = "secret") -> str:
    """A secret file's content, one trailing newline removed, after checking who may read it."""
    shown = os.path.expanduser(path)
    try:
        descriptor = os.open(shown, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SecretError(f"{what} file:{shown}: cannot read it ({exc.strerror or exc})") from None
    try:
        info = os.fstat(descriptor)  # the file opened, not a name that may have changed since
        if not stat.S_ISREG(info.st_mode):
            raise SecretError(f"{what} file:{shown}: not a regular file")
        if os.name == "posix" and info.st_mode & 0o007:
            raise SecretError(
                f"{what} file:{shown}: readable or writable by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); run: chmod o-rwx {shown}"
            )
        if info.st_size > MAX_SECRET_FILE_BYTES:
            raise SecretError(f"{what} file:{shown}: too large for a secret")
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            raw = handle.read(MAX_SECRET_FILE_BYTES + 1)
    finally:
        os.close(descriptor)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"{what} file:{shown}: not UTF-8 text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise SecretError(f"{what} file:{shown}: the file is empty")
    return text


def _from_keyring(rest: str, what: str) -> str:
    separator = "/" if "/" in rest else ":"
    service, sep, name = rest.partition(separator)
    if not sep or not service or not name:
        raise SecretError(f"{what}: write keyring:SERVICE/NAME (e.g. keyring:gta/default)")
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise SecretError(
            f"{what} keyring:{service}/{name}: needs the keyring package: "
            "pip install 'gta[keyring]'"
        ) from None
    try:
        secret = keyring.get_password(service, name)
    except keyring.errors.KeyringError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SecretError(f"{what} keyring:{service}/{name}: {reason}") from None
    if not secret:
        raise SecretError(f"{what} keyring:{service}/{name}: no such entry in the keyring")
    return str(secret)


def store_in_keyring(service: str, name: str, secret: str) -> str:
    """Save *secret* in the keyring; the reference that reads it back (``keyring:SERVICE/NAME``)."""
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise SecretError(
            "storing in the keyring needs the keyring package: pip install 'gta[keyring]'"
        ) from None
    try:
        keyring.set_password(service, name, secret)
    except keyring.errors.KeyringError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SecretError(f"cannot store {service}/{name} in the keyring: {reason}") from None
    return f"keyring:{service}/{name}"
