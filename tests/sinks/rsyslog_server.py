"""A real rsyslogd on loopback for tests and benchmarks: its own config and work directory,
imptcp (plain TCP, octet-counted framing), imtcp + gtls (TLS with a CA and server certificate
made here with certtool) and imudp, each writing the raw messages to ``<name>.log``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

AVAILABLE = shutil.which("rsyslogd") is not None


@dataclass
class Rsyslog:
    directory: Path
    tcp_port: int
    tls_port: int
    udp_port: int
    ca: Path

    def lines(self, name: str, tag: str, expected: int, timeout: float = 30.0) -> list[str]:
        """Lines of ``name``.log containing ``tag``, waiting until ``expected`` arrived."""
        path = self.directory / f"{name}.log"
        deadline = time.monotonic() + timeout
        found: list[str] = []
        while True:
            if path.exists():
                text = path.read_text(encoding="utf-8")
                found = [line for line in text.splitlines() if tag in line]
                if len(found) >= expected:
                    return found
            if time.monotonic() >= deadline:
                return found
            time.sleep(0.1)


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_certificates(directory: Path) -> None:
    """A CA (ca.pem) and a server certificate for localhost/127.0.0.1 (cert.pem, key.pem)."""
    (directory / "ca.tmpl").write_text(
        'cn = "gta test CA"\nca\ncert_signing_key\nexpiration_days = 2\n'
    )
    (directory / "srv.tmpl").write_text(
        'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\n'
        "tls_www_server\nencryption_key\nsigning_key\nexpiration_days = 2\n"
    )
    steps = [
        ["--generate-privkey", "--key-type=ecdsa", "--outfile", "ca-key.pem"],
        [
            "--generate-self-signed",
            "--load-privkey",
            "ca-key.pem",
            "--template",
            "ca.tmpl",
            "--outfile",
            "ca.pem",
        ],
        ["--generate-privkey", "--key-type=ecdsa", "--outfile", "key.pem"],
        [
            "--generate-certificate",
            "--load-privkey",
            "key.pem",
            "--load-ca-certificate",
            "ca.pem",
            "--load-ca-privkey",
            "ca-key.pem",
            "--template",
            "srv.tmpl",
            "--outfile",
            "cert.pem",
        ],
    ]
    for step in steps:
        subprocess.run(["certtool", *step], cwd=directory, check=True, capture_output=True)


@contextmanager
def running_rsyslog(directory: Path) -> Iterator[Rsyslog]:
    """Start rsyslogd with its files under ``directory``; stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    make_certificates(directory)
    rs = Rsyslog(
        directory,
        _free_port(socket.SOCK_STREAM),
        _free_port(socket.SOCK_STREAM),
        _free_port(socket.SOCK_DGRAM),
        directory / "ca.pem",
    )
    d = directory
    conf = d / "rsyslog.conf"
    conf.write_text(
        f'global(workDirectory="{d}" maxMessageSize="128k"\n'
        f'  DefaultNetstreamDriverCAFile="{d}/ca.pem"\n'
        f'  DefaultNetstreamDriverCertFile="{d}/cert.pem"\n'
        f'  DefaultNetstreamDriverKeyFile="{d}/key.pem")\n'
        'module(load="imptcp")\nmodule(load="imudp")\n'
        'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" '
        'StreamDriver.AuthMode="anon")\n'
        'template(name="raw" type="string" string="%rawmsg%\\n")\n'
        + "".join(
            f'ruleset(name="{n}") {{ action(type="omfile" file="{d}/{n}.log" template="raw" '
            'flushOnTXEnd="on" asyncWriting="off") }\n'
            for n in ("tcp", "tls", "udp")
        )
        + f'input(type="imptcp" port="{rs.tcp_port}" address="127.0.0.1" ruleset="tcp")\n'
        f'input(type="imtcp" port="{rs.tls_port}" address="127.0.0.1" ruleset="tls")\n'
        f'input(type="imudp" port="{rs.udp_port}" address="127.0.0.1" ruleset="udp")\n'
    )
    log = (d / "rsyslogd.out").open("w")
    proc = subprocess.Popen(
        ["rsyslogd", "-n", "-f", str(conf), "-i", str(d / "rsyslogd.pid")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        for port in (rs.tcp_port, rs.tls_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        output = (d / "rsyslogd.out").read_text()
                        raise RuntimeError(f"rsyslogd did not start: {output}") from None
                    time.sleep(0.05)
        yield rs
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
