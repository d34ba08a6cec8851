"""A strict stand-in of the Elasticsearch ``_bulk`` endpoint for tests, served by uvicorn on
loopback (no Elasticsearch or OpenSearch server is installable here: neither is packaged in
Debian nor on PyPI).

Documented behaviours it checks or reproduces (Elasticsearch reference, "Bulk API", docs-bulk):

- The body is NDJSON, ``action_and_meta_data\\n optional_source\\n ...``; "the final line of data
  must end with a newline character"; ``Content-Type`` must be ``application/x-ndjson``. A body
  breaking either rule is a whole-request 400 (``illegal_argument_exception``), like the server.
- ``create`` "will fail if a document with the same index ... exists already": the item gets 409
  ``version_conflict_engine_exception``; ``index`` would overwrite, so only ``create`` is taken
  from gta (any other action is a test failure, recorded in ``bad_actions``).
- The reply is 200 with ``took``, ``errors`` (true when any item failed) and one ``items`` entry
  per action, keyed by the action, with ``_index``, ``_id``, ``status`` and ``result`` or
  ``error`` {``type``, ``reason``}: 201 ``created``.
- ``Authorization`` is checked: ``ApiKey <key>`` or ``Basic <user:password>``; otherwise 401
  ``security_exception`` with ``WWW-Authenticate``.
- Faults switched on by the test: 503 or 429 for the next N whole requests, per-item 429
  (``es_rejected_execution_exception``) for the first K items of the next N requests, and a
  mapping error per recordId (400 ``document_parsing_exception``, as ES 8 names it;
  ``mapper_parsing_exception`` before).
- ``GET /`` answers the cluster info (name, version, tagline); ``HEAD /{index}`` 200 or 404.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tests._support.hec_receiver import serve_app

API_KEY = "Z3RhOmdvb2Qta2V5"  # what ES hands out: base64(id:api_key)


def _error(status: int, kind: str, reason: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "root_cause": [{"type": kind, "reason": reason}],
                "type": kind,
                "reason": reason,
            },
            "status": status,
        },
        status_code=status,
        headers=headers,
    )


@dataclass
class EsState:
    """What the stand-in stored and saw; tests read it and set the fault switches."""

    api_keys: set[str] = field(default_factory=lambda: {API_KEY})
    users: dict[str, str] = field(default_factory=lambda: {"elastic": "changeme"})
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # "_index/_id" -> source
    order: list[str] = field(default_factory=list)  # recordIds in the order they were created
    indices: set[str] = field(default_factory=set)
    requests: int = 0
    conflicts: int = 0
    bad_actions: list[str] = field(default_factory=list)
    busy_next: int = 0  # whole-request 503s
    throttle_next: int = 0  # whole-request 429s
    item_throttle_requests: int = 0  # next N requests: the first K items get 429
    item_throttle_count: int = 0
    reject_record_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record_ids(self) -> list[str]:
        with self.lock:
            return list(self.order)


def _auth_error(request: Request, state: EsState) -> JSONResponse | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme == "ApiKey" and value in state.api_keys:
        return None
    if scheme == "Basic":
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if state.users.get(user) == password and user:
            return None
    return _error(
        401,
        "security_exception",
        "missing authentication credentials for REST request",
        **{"WWW-Authenticate": 'ApiKey, Basic realm="security"'},
    )


def _item(action: str, index: str, doc_id: str, status: int, **rest: Any) -> dict[str, Any]:
    return {action: {"_index": index, "_id": doc_id, "status": status, **rest}}


def build_app(state: EsState) -> Starlette:
    async def info(request: Request) -> Response:
        denied = _auth_error(request, state)
        if denied is not None:
            return denied
        return JSONResponse(
            {
                "name": "standin",
                "cluster_name": "gta-test",
                "version": {"number": "8.15.0", "build_flavor": "default"},
                "tagline": "You Know, for Search",
            }
        )

    async def index_exists(request: Request) -> Response:
        denied = _auth_error(request, state)
        if denied is not None:
            return denied
        name = request.path_params["index"]
        return Response(status_code=200 if name in state.indices else 404)

    async def bulk(request: Request) -> Response:
        denied = _auth_error(request, state)
        if denied is not None:
            return denied
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        raw = await request.body()
        with state.lock:
            state.requests += 1
            if content_type != "application/x-ndjson":
                return _error(
                    406,
                    "illegal_argument_exception",
                    f"Content-Type header [{content_type}] is not supported",
                )
            if not raw.endswith(b"\n"):
                return _error(
                    400,
                    "illegal_argument_exception",
                    "The bulk request must be terminated by a newline [\\n]",
                )
            if state.busy_next > 0:
                state.busy_next -= 1
                return _error(503, "unavailable_shards_exception", "primary shard is not active")
            if state.throttle_next > 0:
                state.throttle_next -= 1
                return _error(429, "es_rejected_execution_exception", "rejected execution")
            lines = raw.decode("utf-8").split("\n")[:-1]
            if len(lines) % 2:
                return _error(400, "illegal_argument_exception", "action without a source line")
            throttle = state.item_throttle_count if state.item_throttle_requests > 0 else 0
            if state.item_throttle_requests > 0:
                state.item_throttle_requests -= 1
            items: list[dict[str, Any]] = []
            for number in range(0, len(lines), 2):
                meta, source = json.loads(lines[number]), json.loads(lines[number + 1])
                action = next(iter(meta))
                params = meta[action]
                index = params.get("_index") or request.path_params.get("index", "")
                doc_id = params.get("_id", "")
                if action != "create" or not doc_id:
                    state.bad_actions.append(f"{action} {doc_id!r}")
                key = f"{index}/{doc_id}"
                if number // 2 < throttle:
                    items.append(
                        _item(
                            action,
                            index,
                            doc_id,
                            429,
                            error={
                                "type": "es_rejected_execution_exception",
                                "reason": "rejected execution of coordinating operation",
                            },
                        )
                    )
                elif source.get("recordId") in state.reject_record_ids:
                    items.append(
                        _item(
                            action,
                            index,
                            doc_id,
                            400,
                            error={
                                "type": "document_parsing_exception",
                                "reason": "[1:20] failed to parse field [risk] of type [long]",
                            },
                        )
                    )
                elif key in state.docs:
                    state.conflicts += 1
                    items.append(
                        _item(
                            action,
                            index,
                            doc_id,
                            409,
                            error={
                                "type": "version_conflict_engine_exception",
                                "reason": f"[{doc_id}]: version conflict, document already exists "
                                "(current version [1])",
                            },
                        )
                    )
                else:
                    state.docs[key] = source
                    state.order.append(str(source.get("recordId")))
                    state.indices.add(index)
                    items.append(_item(action, index, doc_id, 201, _version=1, result="created"))
            errors = any("error" in next(iter(i.values())) for i in items)
            return JSONResponse({"took": 3, "errors": errors, "items": items})

    return Starlette(
        routes=[
            Route("/", info, methods=["GET"]),
            Route("/_bulk", bulk, methods=["POST", "PUT"]),
            Route("/{index}/_bulk", bulk, methods=["POST", "PUT"]),
            Route("/{index}", index_exists, methods=["HEAD", "GET"]),
        ]
    )


@dataclass
class RunningStandin:
    state: EsState
    url: str  # sink URL without the query, e.g. elasticsearch+http://127.0.0.1:PORT
    base_url: str


@contextmanager
def run_standin(state: EsState | None = None) -> Iterator[RunningStandin]:
    """Serve the stand-in on 127.0.0.1 (a free port) in a thread for the ``with`` block."""
    state = state or EsState()
    with serve_app(build_app(state), "Elasticsearch stand-in") as port:
        yield RunningStandin(
            state, f"elasticsearch+http://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
        )
