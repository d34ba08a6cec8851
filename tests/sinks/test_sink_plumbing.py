"""What every sink shares: the backoff (gta.client's, capped), the batch loop, the options
parser. Pure pieces, driven from tables; nothing really waits."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from gta.sinks import Flag, PositiveInt, SinkConfigError, SinkError, SinkOptions, option
from gta.sinks._options import read_options
from gta.sinks._retrying import Backoff, deliver, done, retry, split

log = logging.getLogger("test")


def _backoff(slept: list[float], **kw: Any) -> Backoff:
    settings: dict[str, Any] = {"max_retries": 5000, "base": 0.5, "cap": 30.0}
    return Backoff("t", log, sleep=slept.append, rand=lambda: 0.999, **{**settings, **kw})


def test_backoff_is_capped_even_after_thousands_of_retries() -> None:
    slept: list[float] = []
    backoff = _backoff(slept)
    for attempt in (0, 1, 10, 1023, 1024, 4999):  # 2.0**1024 overflowed the sink copies
        assert backoff.wait(attempt, "x") == attempt + 1
    assert slept[0] == pytest.approx(0.4995) and max(slept) <= 30.0
    with pytest.raises(SinkError, match=r"^t: giving up after 5001 attempts \(down\)$"):
        backoff.wait(5000, "down")


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("600", 30.0), ("soon", 29.97)])
def test_retry_after_is_honoured_up_to_the_cap(header: str, expected: float) -> None:
    slept: list[float] = []
    response = httpx.Response(503, headers={"Retry-After": header})
    _backoff(slept).wait(6, "busy", response)
    assert slept == [pytest.approx(expected)]


def test_the_batch_loop_splits_retries_and_stops_on_untrusted_tls() -> None:
    slept: list[float] = []
    sent: list[list[int]] = []
    replies = iter([413, 503, 200, 200])

    def post(batch: list[int]) -> httpx.Response:
        sent.append(batch)
        return httpx.Response(next(replies))

    def answer(batch: list[int], response: httpx.Response) -> Any:
        status = response.status_code
        return split() if status == 413 else retry("busy") if status == 503 else done()

    deliver([1, 2, 3, 4], post, answer, _backoff(slept), untrusted="nope")
    assert sent == [[1, 2, 3, 4], [1, 2], [1, 2], [3, 4]] and len(slept) == 1

    def refuse(batch: list[int]) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    with pytest.raises(SinkConfigError, match=r"^nope$"):
        deliver([1], refuse, answer, _backoff(slept), untrusted="nope")


class _Opts(SinkOptions):
    size: PositiveInt = option(10, "size")
    on: Flag = option(False, "on")
    token: str | None = option(None, "secret", secret=True)


@pytest.mark.parametrize(
    ("query", "options", "message"),
    [
        ("size=big", {}, "^x option size='big' is not a number$"),
        ("size=-1", {}, "^x option size must be positive, got '-1'$"),
        ("", {"on": "maybe"}, r"^x option on='maybe' is not a boolean \(use true/false\)$"),
        ("colour=red", {}, "^unknown x URL parameter 'colour'; valid: size, on$"),
        ("token=abc", {}, "^unknown x URL parameter 'token'; valid: size, on$"),
        ("", {"colour": 1}, "^unknown x option 'colour'; valid: size, on, token$"),
    ],
)
def test_option_errors_name_the_option_on_one_line(
    query: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SinkConfigError, match=message):
        read_options("x", _Opts, query, options)


def test_options_win_over_the_url() -> None:
    parsed = read_options("x", _Opts, "size=3&on=yes", {"size": 7})
    assert (parsed.size, parsed.on) == (7, True)


def test_sinks_list_reads_specs_without_loading_a_sink_or_httpx() -> None:
    import json
    import subprocess
    import sys

    probe = (
        "import json, sys\nfrom gta.cli import main\ntry:\n    main(['sinks', 'list'])\n"
        "except SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=False)  # fmt: skip
    assert "sentinel+https://" in run.stdout
    modules = set(json.loads(run.stderr.strip().splitlines()[-1]))
    heavy = {m for m in modules if m == "httpx" or m.startswith(("httpx.", "gta.client"))}
    sinks = {"_jsonl", "_splunk_hec", "_syslog", "_elasticsearch", "_sentinel", "_check"}
    assert heavy == set() and not {f"gta.sinks.{name}" for name in sinks} & modules


def test_syslog_backoff_does_not_overflow_after_a_thousand_retries() -> None:
    from gta.sinks._syslog import SyslogSink, parse_syslog_url

    slept: list[float] = []
    config = parse_syslog_url("syslog+tcp://127.0.0.1:9?max_retries=5000&backoff_cap=5", {})
    sink = SyslogSink(config, sleep=slept.append, rand=lambda: 0.5)
    assert sink._backoff(1100, OSError("refused")) == 1101  # 0.5 * 2**1100 overflowed a float
    assert slept == [2.5]
    with pytest.raises(SinkError, match=r"^syslog 127.0.0.1:9 unreachable after 5001 attempts"):
        sink._backoff(5000, OSError("refused"))


def test_threads_opening_sinks_at_once_all_find_their_scheme() -> None:
    import subprocess
    import sys

    probe = """
import threading
from gta.sinks import destination_key
urls = ["splunk-hec+https://h:8088", "syslog+tls://h", "elasticsearch+https://h?index=x",
        "sentinel+https://h", "-", "jsonl:/tmp/x"] * 4
start, found, lock = threading.Barrier(len(urls)), [], threading.Lock()
def key(url):
    start.wait()
    got = destination_key(url)
    with lock:
        found.append(got)
threads = [threading.Thread(target=key, args=(u,)) for u in urls]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(set(map(str, found))))
"""
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    import os

    expected = {"splunk-hec://h:8088?index=", "syslog+tls://h:6514", "None",
                "elasticsearch+https://h?index=x", "sentinel+https://h",
                "file:" + os.path.realpath("/tmp/x")}  # fmt: skip
    assert run.stdout.strip() == str(sorted(expected))
