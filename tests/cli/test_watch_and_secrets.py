"""Child-process runs: ``gta alerts watch`` piped, and no secret in any output with --debug."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from tests.cli.helpers import run_process, sdk

from gta.emulator import RunningEmulator


def test_piped_watch_writes_one_json_line_per_new_or_changed_version(
    fresh_emu: RunningEmulator, tmp_path: Any
) -> None:
    env = {**os.environ, **fresh_emu.env(), "GTA_CONFIG_DIR": str(tmp_path)}
    # The activity comes at once and the note about 1 s later; polls every 0.3 s see both long
    # before --duration ends the watch.
    args = ["--debug", "alerts", "watch", "--interval", "0.3s", "--duration", "4s"]
    with subprocess.Popen(
        [sys.executable, "-c", "from gta.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        stderr_lines: list[str] = []
        assert child.stderr is not None
        for line in child.stderr:  # the baseline is read before this debug line
            stderr_lines.append(line)
            if "watching changes after" in line:
                break
        else:
            pytest.fail("watch never started: " + "".join(stderr_lines))
        out_lines: list[str] = []
        readers = [
            threading.Thread(target=lambda: stderr_lines.extend(child.stderr or [])),
            threading.Thread(target=lambda: out_lines.extend(child.stdout or [])),
        ]
        for reader in readers:
            reader.start()
        made = httpx.post(
            f"{fresh_emu.url}/_emulator/activity", json={"new_events": 40, "updated_events": 20}
        ).json()
        new_ids = set(made["newAlertIds"])
        assert new_ids
        time.sleep(1.0)
        with sdk(fresh_emu) as client:
            changed = next(a for a in client.alerts.list().raw() if a["id"] not in new_ids)
            client.alerts.set_note(changed["id"], "watched")
        child.wait(timeout=40)
        for reader in readers:
            reader.join(timeout=5)
    assert child.returncode == 0, "".join(stderr_lines)
    rows = [json.loads(line) for line in out_lines]
    assert rows
    assert all(set(row) >= {"id", "risk", "status", "modifiedAt", "note", "change"} for row in rows)
    versions = [(row["id"], row["modifiedAt"]) for row in rows]
    assert len(versions) == len(set(versions))  # each version once
    assert {row["id"] for row in rows if row["change"] == "new"} == new_ids
    noted = [row for row in rows if row["id"] == changed["id"]]
    assert noted and noted[-1]["note"] == "watched" and noted[-1]["change"] == "changed"


def test_no_secret_in_any_output_or_debug_log(fresh_emu: RunningEmulator, tmp_path: Any) -> None:
    issued: list[str] = []
    tokens = fresh_emu.state.tokens
    original = tokens.issue

    def recording_issue(*args: Any, **kwargs: Any) -> dict[str, object]:
        body = original(*args, **kwargs)
        issued.append(str(body["access_token"]))
        return body

    tokens.issue = recording_issue  # type: ignore[method-assign]
    password = fresh_emu.client_password
    env = {**fresh_emu.env(), "GTA_CONFIG_DIR": str(tmp_path)}
    with sdk(fresh_emu) as client:
        alert_id = next(iter(client.alerts.list(size=1).raw()))["id"]
    commands = [
        ["configure", "--no-input", "--profile", "lab", "--client-id", fresh_emu.client_id,
         "--client-password", password, "--securex-host", fresh_emu.url],
        ["configure", "show", "--profile", "lab"],
        ["auth", "check", "--profile", "lab"],
        ["alerts", "list", "--limit", "5"],
        ["alerts", "show", alert_id, "--events", "2"],
        ["alerts", "note", alert_id, "hello"],
        ["alerts", "status", alert_id, "--set", "Open"],
        ["alerts", "close", "--risk", "Low", "--triggered-before", "1d", "--yes"],
        ["alerts", "watch", "--interval", "0.2s", "--duration", "0.5s", "--format", "jsonl"],
    ]  # fmt: skip
    # One child process runs every command through ``main`` (its logging set up once, on the
    # real stderr), which is several times faster than one process per command.
    driver = (
        "import json, sys\n"
        "from gta.cli import main\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exc:\n"
        "        print('exit', exc.code, flush=True)\n"
        "    else:\n"
        "        print('exit 0', flush=True)\n"
    )
    runs = [["--debug", *command] for command in commands]
    good = subprocess.run(
        [sys.executable, "-c", driver, json.dumps(runs)],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert good.stdout.count("exit 0") == len(commands), good.stdout + good.stderr
    bad = run_process(["--debug", "auth", "check"], {**env, "SECUREX_CLIENT_PASSWORD": "x" * 12})
    assert bad.returncode == 1
    outputs = [good.stdout, good.stderr, bad.stdout, bad.stderr]
    assert len(issued) >= 7  # every API command got a token of its own
    everything = "\n".join(outputs)
    assert "DEBUG" in everything  # the logs were really on
    assert password not in everything
    assert "x" * 12 not in everything
    for token in issued:
        assert token not in everything
