"""An independent view of the emulator's data through plain httpx (no gta.client, no gta.sync),
so a bug shared by the SDK and the engine cannot hide itself in the sync tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx

from gta.emulator import RunningEmulator

Key = tuple[str, str | None, str | None]


class RawApi:
    """Just enough of the API, by hand: token, cursor paging, bulk searches."""

    def __init__(self, emu: RunningEmulator) -> None:
        self.emu = emu
        token = httpx.post(
            f"{emu.url}/iroh/oauth2/token",
            auth=(emu.client_id, emu.client_password),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        self.http = httpx.Client(
            base_url=emu.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.cid = emu.customer_id

    def close(self) -> None:
        self.http.close()

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        after = None
        while True:
            query = dict(params, size=1000) | ({"after": after} if after else {})
            body = self.http.get(path, params=query).raise_for_status().json()
            yield from body["items"]
            if not body["items"] or not body["pageInfo"]["hasNextPage"]:
                return
            after = body["pageInfo"]["endCursor"]

    def search(self, path: str, key: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 1000):
            body = (
                self.http.post(path, json={"filter": {key: ids[start : start + 1000]}})
                .raise_for_status()
                .json()
            )
            assert not body["pageInfo"]["hasNextPage"]
            found.update({o["id"]: o for o in body["items"]})
        return found

    def expected_rows(self) -> Counter[Key]:
        events = list(
            self.pages(
                f"/threat-detection/customer/{self.cid}/enriched-events-with-threat-detection-ids",
                {"sort": "modificationSequenceNumber"},
            )
        )
        td_ids = sorted({t for e in events for t in e["threatDetectionIds"]})
        tds = self.search(
            f"/alert-management/customer/{self.cid}/enriched-threat-detections-with-alert-ids/search",
            "threatDetectionIds",
            td_ids,
        )
        rows: Counter[Key] = Counter()
        for e in events:
            if not e["threatDetectionIds"]:
                rows[(e["id"], None, None)] += 1
            for t in e["threatDetectionIds"]:
                alert_ids = tds[t]["alertIds"] if t in tds else []
                for a in alert_ids or [None]:
                    rows[(e["id"], t, a)] += 1
        return rows
