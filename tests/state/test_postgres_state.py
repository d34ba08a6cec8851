"""What only the PostgreSQL backend meets: passwords, rights, foreign databases, versions.

Each failure is one StateError line naming the URL without its password; nothing is changed."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gta.state import StateError, StateUrlError, open_state


def _without_pgpass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.delenv("PGPASSWORD", raising=False)


def _role(postgres_server: Any, postgres_url: str, *, rights: bool) -> tuple[str, str]:
    """A login role (name, password) on the test database, owner of nothing."""
    name, password = "r_" + uuid.uuid4().hex[:10], uuid.uuid4().hex
    admin = postgres_server.admin()
    try:
        admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    finally:
        admin.close()
    if rights:
        with postgres_server.connect(postgres_url) as conn:
            conn.execute(f"GRANT ALL ON SCHEMA public TO {name}")
    return name, password


def _as(url: str, user: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}@{rest.rsplit('@', 1)[-1]}"


def test_the_password_comes_from_pgpassword_or_an_env_or_file_reference(
    postgres_server: Any,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, password = _role(postgres_server, postgres_url, rights=True)
    _without_pgpass(monkeypatch, tmp_path)
    url = _as(postgres_url, name)
    with pytest.raises(StateError) as failed:
        open_state(url)
    assert "cannot connect" in str(failed.value) and "\n" not in str(failed.value)
    monkeypatch.setenv("PGPASSWORD", password)
    with open_state(url) as store:
        store.set_cursor("ev", "C1", "events", "1")
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("GTA_PG_PASSWORD", password)
    scheme, rest = url.split("://", 1)
    with open_state(f"{scheme}://{name}:env:GTA_PG_PASSWORD@{rest.split('@', 1)[1]}") as store:
        assert store.get("ev", "C1", "events").cursor == "1"  # type: ignore[union-attr]
    secret = tmp_path / "pg-password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    with open_state(f"{url}?password=file:{secret}") as store:
        assert store.location == url + f"?password={'***'}"
        assert password not in store.location


def test_a_wrong_password_is_one_line_without_it(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_pgpass(monkeypatch, tmp_path)
    monkeypatch.setenv("GTA_PG_PASSWORD", "not-the-password-4711")
    scheme, rest = postgres_url.split("://", 1)
    with pytest.raises(StateError) as failed:
        open_state(f"{scheme}://gta:env:GTA_PG_PASSWORD@{rest.split('@', 1)[1]}")
    text = str(failed.value)
    assert "password authentication failed" in text and "\n" not in text
    assert "4711" not in text and text.startswith(f"state {scheme}://gta:***@")


def test_an_unset_password_variable_is_one_line(postgres_url: str) -> None:
    scheme, rest = postgres_url.split("://", 1)
    with pytest.raises(StateError, match="environment variable GTA_NOPE is not set"):
        open_state(f"{scheme}://gta:env:GTA_NOPE@{rest.split('@', 1)[1]}")


def test_a_literal_password_in_the_url_is_refused_before_connecting() -> None:
    with pytest.raises(StateUrlError) as failed:
        open_state("postgresql://gta:s3cret-pw@127.0.0.1:1/gta")
    assert "s3cret-pw" not in str(failed.value) and "PGPASSWORD" in str(failed.value)


def test_a_role_without_rights_is_one_line_and_nothing_is_made(
    postgres_server: Any, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, password = _role(postgres_server, postgres_url, rights=False)
    _without_pgpass(monkeypatch, tmp_path)
    monkeypatch.setenv("PGPASSWORD", password)
    with pytest.raises(StateError) as failed:
        open_state(_as(postgres_url, name))
    assert "permission denied for schema public" in str(failed.value)
    assert "\n" not in str(failed.value)
    with postgres_server.connect(postgres_url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        assert tables.fetchall() == []


def test_a_database_that_is_not_a_gta_state_is_refused_untouched(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StateError, match="not a gta state"):
        open_state(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        tables = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
    assert tables == {"invoices"}


def test_a_state_written_by_a_newer_gta_is_refused(postgres_url: str) -> None:
    open_state(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE gta_meta SET value='99' WHERE key='schema'")
    with pytest.raises(StateError, match="has state schema '99'; this gta reads '1'"):
        open_state(postgres_url)


def test_a_dropped_connection_is_reopened_at_the_next_use(postgres_url: str) -> None:
    with open_state(postgres_url) as store:
        store.set_cursor("ev", "C1", "events", "1")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'gta' AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StateError):
            store.get("ev", "C1", "events")  # the failure is one StateError ...
        assert store.get("ev", "C1", "events").cursor == "1"  # type: ignore[union-attr]


def test_first_runs_racing_on_an_empty_database_all_find_one_schema(postgres_url: str) -> None:
    import threading

    errors: list[BaseException] = []

    def first() -> None:
        try:
            open_state(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
