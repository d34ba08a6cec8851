"""Compare the rows of two clients exactly without holding them: an order-free digest.

gta's annotation rows and the vendor script's rows carry the same columns; gta adds its own
bookkeeping (``recordId``, ``stream``, ``customerId``) and both stamp ``indexTime`` with the
moment they ran. A row's content is every other non-null field, encoded with sorted keys; the
digest is the sum, modulo 2**256, of the SHA-256 of each row's content, so it does not depend
on the order rows were written in (partitions write in another order than one cursor) but does
count every duplicate and every difference.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

IGNORED = frozenset({"recordId", "stream", "customerId", "indexTime"})
_MOD = 1 << 256


def row_content(row: dict[str, object]) -> bytes:
    """What two clients must agree on for one row."""
    kept = {k: v for k, v in row.items() if k not in IGNORED and v is not None}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)


def rows_digest(path: Path) -> tuple[int, str]:
    """(rows, digest) of a JSON lines file."""
    total, rows = 0, 0
    with path.open("rb") as f:
        for line in f:
            if not line.strip():
                continue
            digest = hashlib.sha256(row_content(orjson.loads(line))).digest()
            total = (total + int.from_bytes(digest, "big")) % _MOD
            rows += 1
    return rows, f"{total:064x}"
