"""The emulator's data: opening (or generating) the SQLite database, and reading pages from it.

Reads are keyset queries on an index (see ``_pagination``); documents come back as the JSON
bytes stored at write time and are spliced into the response, never decoded. Mutations live in
``_activity`` and ``_alerts``; they take new sequence numbers from ``Store.take_msn``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from gta.emulator import _schema
from gta.emulator._clock import Clock, resolve_start
from gta.emulator._generator import generate_customer, threat_intel_rows
from gta.emulator._pagination import Key, Order, PageRequest
from gta.emulator._settings import CustomerIdentity, EmulatorSettings

log = logging.getLogger("gta.emulator")


def _spliced(name: str, column: str) -> str:
    """SQL giving ``doc`` with one more field whose JSON text is stored in ``column``.

    Done by SQLite in C (byte substring and concatenation), so a 1000-item page costs no
    per-item Python work; the result is cast back to a BLOB, i.e. bytes.
    """
    return f"""CAST(substr(doc, 1, length(doc) - 1) || ',"{name}":' || {column} || '}}' AS BLOB)"""


@dataclass(frozen=True)
class Collection:
    """How one collection is stored: table, sort keys, and the SQL that yields each document."""

    table: str
    order: Order
    keys: tuple[str, ...]
    doc: str = "doc"
    customer_scoped: bool = True


EVENTS = Collection("events", Order.MSN, ("msn",))
ENRICHED_EVENTS = Collection(
    "events", Order.MSN, ("msn",), _spliced("threatDetectionIds", "td_ids")
)
TDS = Collection("tds", Order.MSN, ("msn",))
ENRICHED_TDS = Collection("tds", Order.MSN, ("msn",), _spliced("alertIds", "alert_ids"))
FLOWS = Collection("flows", Order.MSN, ("msn",))
ALERTS_BY_RISK = Collection("alerts", Order.RISK, ("risk_rank", "id"))
ALERTS_BY_TRIGGER = Collection("alerts", Order.TRIGGERED, ("triggered_at", "id"))
ASSETS = Collection("assets", Order.ID, ("id",))
THREAT_INTEL = Collection("threat_intel", Order.ID, ("id",), customer_scoped=False)


@dataclass(frozen=True)
class Filter:
    """An extra SQL condition on a page query (parameters bound, never interpolated)."""

    sql: str
    params: tuple[object, ...] = ()


@dataclass
class Page:
    """One page of rendered documents with the sort keys of its first and last item."""

    docs: list[bytes]
    first: Key | None
    last: Key | None
    has_previous: bool
    has_next: bool


class Store:
    """One SQLite connection, the customers it serves, the clock and the MSN counter."""

    def __init__(
        self, conn: sqlite3.Connection, identities: list[CustomerIdentity], clock: Clock
    ) -> None:
        self.conn = conn
        self.identities = identities
        self.clock = clock
        row = conn.execute(
            "SELECT max(m) FROM (SELECT max(msn) AS m FROM events UNION ALL "
            "SELECT max(msn) FROM tds UNION ALL SELECT max(msn) FROM flows)"
        ).fetchone()
        stored = _schema.read_meta(conn, "next_msn")
        self._next_msn = max(int(row[0] or 0) + 1, int(stored or 1))

    @classmethod
    def open(cls, settings: EmulatorSettings) -> Store:
        """Open the database of ``settings``: generate it, or reuse a matching file."""
        identities = settings.identities()
        key = _generation_key(settings)
        if settings.db_path is None:
            conn = _schema.connect(None)
            start_ms = resolve_start(settings.clock_start, settings.seed)
            _generate(conn, settings, start_ms, key)
            return cls(conn, identities, Clock(start_ms))
        path = Path(settings.db_path)
        try:
            return cls._open_file(path, settings, identities, key)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise _schema.EmulatorDatabaseError(f"{path}: {reason}") from None

    @classmethod
    def _open_file(
        cls, path: Path, settings: EmulatorSettings, identities: list[CustomerIdentity], key: str
    ) -> Store:
        """Reuse the emulator file at ``path`` if it matches, else generate it (never clobber)."""
        if _schema.inspect_file(path) == "emulator":
            conn = _schema.connect(path)
            if _schema.read_meta(conn, "generation_key") == key:
                clock_at = int(_schema.read_meta(conn, "clock_ms") or "0")
                log.info("reusing emulator database %s", path)
                return cls(conn, identities, Clock(clock_at))
            conn.close()
            log.info("emulator database %s was made for other settings; regenerating", path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            conn = _schema.connect(tmp)
            try:
                start_ms = resolve_start(settings.clock_start, settings.seed)
                _schema.bulk_mode(conn)
                _generate(conn, settings, start_ms, key)
            finally:
                conn.close()
            for suffix in ("-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        conn = _schema.connect(path)
        return cls(conn, identities, Clock(start_ms))

    def take_msn(self, count: int = 1) -> int:
        """Reserve ``count`` consecutive sequence numbers (one global counter); return the first."""
        first = self._next_msn
        self._next_msn += count
        return first

    @property
    def max_msn(self) -> int:
        return self._next_msn - 1

    def save_clock(self) -> None:
        """Persist the clock and counter, so a reused file database does not go back in time."""
        _schema.write_meta(self.conn, "clock_ms", str(self.clock.now_ms()))
        _schema.write_meta(self.conn, "next_msn", str(self._next_msn))

    def close(self) -> None:
        try:
            self.save_clock()
        finally:
            self.conn.close()

    # -- reading ---------------------------------------------------------------------------

    def page(
        self,
        coll: Collection,
        cust: int,
        req: PageRequest,
        filters: Sequence[Filter] = (),
        ids: Sequence[str] | None = None,
    ) -> Page:
        """Read one page of ``coll`` for customer ``cust`` (keyset; ``ids`` restricts to ids)."""
        where = ["cust = ?"] if coll.customer_scoped else []
        params: list[object] = [cust] if coll.customer_scoped else []
        for f in filters:
            where.append(f.sql)
            params.extend(f.params)
        if ids is not None:
            return self._page_of_ids(coll, where, params, req, ids)
        keys = ", ".join(coll.keys)
        select = f"SELECT {keys}, {coll.doc} FROM {coll.table}"
        nkeys = len(coll.keys)
        backward = req.before is not None
        bound = req.before if backward else req.after
        cond = list(where)
        cparams = list(params)
        if bound is not None:
            cond.append(_compare(coll.keys, "<" if backward else ">"))
            cparams.extend(bound)
        direction = "DESC" if backward else "ASC"
        order = ", ".join(f"{k} {direction}" for k in coll.keys)
        sql = f"{select}{_where(cond)} ORDER BY {order} LIMIT ?"
        rows = self.conn.execute(sql, [*cparams, req.size + 1]).fetchall()
        more = len(rows) > req.size
        rows = rows[: req.size]
        if backward:
            rows.reverse()
        if not rows:
            return Page([], None, None, False, False)
        first: Key = tuple(rows[0][:nkeys])
        last: Key = tuple(rows[-1][:nkeys])
        if backward:
            has_previous, has_next = more, self._exists(coll, where, params, ">", last)
        else:
            has_previous, has_next = self._exists(coll, where, params, "<", first), more
        return Page([r[nkeys] for r in rows], first, last, has_previous, has_next)

    def _exists(
        self, coll: Collection, where: list[str], params: list[object], op: str, key: Key
    ) -> bool:
        sql = f"SELECT 1 FROM {coll.table}{_where([*where, _compare(coll.keys, op)])} LIMIT 1"
        return self.conn.execute(sql, [*params, *key]).fetchone() is not None

    def _page_of_ids(
        self,
        coll: Collection,
        where: list[str],
        params: list[object],
        req: PageRequest,
        ids: Sequence[str],
    ) -> Page:
        """Id searches (at most 1000 ids): look each id up, then order and cut in memory."""
        if not ids:
            return Page([], None, None, False, False)
        nkeys = len(coll.keys)
        sql = (
            f"SELECT {', '.join(coll.keys)}, {coll.doc} FROM {coll.table}"
            f"{_where([*where, 'id IN (SELECT value FROM json_each(?))'])}"
        )
        rows = sorted(self.conn.execute(sql, [*params, orjson.dumps(list(ids)).decode()]))
        keyed = [(tuple(r[:nkeys]), r) for r in rows]
        if req.before is not None:
            before = req.before
            kept = [kr for kr in keyed if kr[0] < before]
            has_next = len(kept) < len(keyed)
            has_previous = len(kept) > req.size
            kept = kept[-req.size :]
        else:
            after = req.after
            kept = [kr for kr in keyed if after is None or kr[0] > after]
            has_previous = len(kept) < len(keyed)
            has_next = len(kept) > req.size
            kept = kept[: req.size]
        if not kept:
            return Page([], None, None, False, False)
        docs = [r[nkeys] for _, r in kept]
        return Page(docs, kept[0][0], kept[-1][0], has_previous, has_next)

    def first_msn_modified_after(self, table: str, cust: int, after_ms: int) -> int | None:
        """The smallest MSN whose ``modified_at`` is after ``after_ms``.

        MSNs are given in modification order, so ``modified_at > t`` is the same as
        ``msn >= this``: it turns a time filter into a keyset bound (no scan).
        """
        row = self.conn.execute(
            f"SELECT msn FROM {table} WHERE cust = ? AND modified_at > ? "
            "ORDER BY modified_at, msn LIMIT 1",
            (cust, after_ms),
        ).fetchone()
        return None if row is None else int(row[0])

    def counts(self) -> dict[str, int]:
        """Row counts per collection (all customers), for ``GET /_emulator/stats``."""
        out = {}
        for name, table in (
            ("alerts", "alerts"),
            ("threatDetections", "tds"),
            ("events", "events"),
            ("flows", "flows"),
            ("assets", "assets"),
            ("threatIntelRecords", "threat_intel"),
        ):
            out[name] = int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        return out


def _compare(keys: tuple[str, ...], op: str) -> str:
    if len(keys) == 1:
        return f"{keys[0]} {op} ?"
    return f"({', '.join(keys)}) {op} ({', '.join('?' for _ in keys)})"


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _generation_key(settings: EmulatorSettings) -> str:
    """What a file database was generated for; a different key means regenerate."""
    ids = ",".join(f"{i.customer_id}" for i in settings.identities())
    return (
        f"v{_schema.GENERATOR_VERSION};seed={settings.seed};events={settings.events};"
        f"flows={settings.flows_per_event};customers={ids};clock={settings.clock_start}"
    )


def _generate(
    conn: sqlite3.Connection, settings: EmulatorSettings, start_ms: int, key: str
) -> None:
    started = time.monotonic()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO threat_intel (id, doc) VALUES (?, ?)", threat_intel_rows())
    msn = 1
    for ident in settings.identities():
        conn.execute(
            "INSERT INTO customers (idx, customer_id, client_id, client_password)"
            " VALUES (?, ?, ?, ?)",
            (ident.index, ident.customer_id, ident.client_id, ident.client_password),
        )
        msn = generate_customer(
            conn,
            cust=ident.index,
            seed=settings.seed,
            events=settings.events,
            flows_per_event=settings.flows_per_event,
            start_ms=start_ms,
            first_msn=msn,
        )
    for statement in _schema.INDEXES.split(";"):
        if statement.strip():
            conn.execute(statement)
    _schema.write_meta(conn, "generation_key", key)
    _schema.write_meta(conn, "clock_ms", str(start_ms))
    _schema.write_meta(conn, "next_msn", str(msn))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    log.info("generated emulator data in %.1f s", time.monotonic() - started)
