"""Static vocabulary of the generated data: threats, event types, people and hosts.

Names are modelled on what a Global Threat Alerts tenant shows (malware families, categories,
network behaviours), so demos and screenshots look like the real thing. Ids are stable UUIDs
derived from the names, so the threat catalog is the same for every seed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

_NAMESPACE = uuid.UUID("5b1c7f0e-3a52-4c57-9d8e-6f2d0b1a9c44")

SEVERITIES = ("Critical", "High", "Medium", "Low")
RISK_RANK = {"Critical": 0, "High": 1, "Medium": 2, "Low": 3}
RISK_BY_RANK = {rank: risk for risk, rank in RISK_RANK.items()}
CONFIDENCES = ("High", "Medium", "Low")
CLOSING_REASONS = ("Remediated", "FalsePositive", "AcceptedRisk", "Duplicate", "Other")

# (title, category, subcategory, severity)
_THREATS: tuple[tuple[str, str, str, str], ...] = (
    ("Emotet", "Malware", "Banking trojan", "Critical"),
    ("TrickBot", "Malware", "Banking trojan", "Critical"),
    ("Qakbot", "Malware", "Banking trojan", "Critical"),
    ("Dridex", "Malware", "Banking trojan", "High"),
    ("IcedID", "Malware", "Banking trojan", "High"),
    ("Ryuk", "Ransomware", "Targeted ransomware", "Critical"),
    ("Conti", "Ransomware", "Ransomware as a service", "Critical"),
    ("LockBit", "Ransomware", "Ransomware as a service", "Critical"),
    ("WannaCry", "Ransomware", "Worm", "Critical"),
    ("Cobalt Strike beacon", "Attack tool", "Command and control", "Critical"),
    ("Metasploit Meterpreter", "Attack tool", "Remote access", "High"),
    ("njRAT", "Malware", "Remote access trojan", "High"),
    ("AsyncRAT", "Malware", "Remote access trojan", "High"),
    ("Remcos", "Malware", "Remote access trojan", "High"),
    ("Agent Tesla", "Malware", "Information stealer", "High"),
    ("RedLine Stealer", "Malware", "Information stealer", "High"),
    ("FormBook", "Malware", "Information stealer", "High"),
    ("Lokibot", "Malware", "Information stealer", "Medium"),
    ("Ursnif", "Malware", "Banking trojan", "High"),
    ("Mirai", "Malware", "IoT botnet", "Medium"),
    ("Necurs", "Malware", "Spam botnet", "Medium"),
    ("XMRig miner", "Cryptomining", "Monero miner", "Medium"),
    ("Coinhive", "Cryptomining", "Browser miner", "Low"),
    ("Shlayer", "Malware", "Dropper", "Medium"),
    ("Gamarue", "Malware", "Worm", "Medium"),
    ("Sality", "Malware", "File infector", "Medium"),
    ("Ramnit", "Malware", "File infector", "Medium"),
    ("Zloader", "Malware", "Loader", "High"),
    ("Bumblebee", "Malware", "Loader", "High"),
    ("SocGholish", "Malware", "Fake update", "High"),
    ("Domain generation algorithm", "Suspicious behavior", "DGA traffic", "Medium"),
    ("DNS tunneling", "Suspicious behavior", "Data exfiltration", "High"),
    ("Data exfiltration", "Suspicious behavior", "Data exfiltration", "High"),
    ("Tor relay usage", "Anonymization", "Tor", "Low"),
    ("Anonymizing VPN", "Anonymization", "Proxy", "Low"),
    ("Potentially unwanted application", "PUA", "Adware", "Low"),
    ("Browser hijacker", "PUA", "Browser extension", "Low"),
    ("Torrent client", "Policy violation", "Peer to peer", "Low"),
    ("Phishing kit", "Phishing", "Credential harvesting", "Medium"),
    ("Malicious advertising", "Malvertising", "Redirect chain", "Medium"),
)

# (title, subtitle template, convicting-capable, annotation id or None, annotation attributes)
# fmt: off
_EVENT_TYPES: tuple[tuple[str, str, bool, str | None, tuple[str, ...]], ...] = (
    ("Command and control communication", "Communication with {domain}", True,
     "c2-communication", ("domain", "ip")),
    ("Malware distribution", "Download of a malicious file from {domain}", True,
     "malware-download", ("domain", "fileName")),
    ("Communication with a DGA domain", "Queried {domain}", True,
     "dga-domain", ("domain",)),
    ("Data exfiltration", "{megabytes} MB uploaded to {ip}", True,
     "large-upload", ("ip", "bytes")),
    ("DNS tunneling", "Unusually long DNS queries to {domain}", True,
     "dns-tunnel", ("domain",)),
    ("Cryptocurrency mining", "Stratum connection to {ip}:{port}", True,
     "mining-pool", ("ip", "port")),
    ("Tor communication", "Connection to Tor relay {ip}", True, "tor-relay", ("ip",)),
    ("Phishing page visited", "Credential form on {domain}", True,
     "phishing-page", ("domain", "url")),
    ("Malicious advertising", "Redirect chain through {domain}", True,
     "malvertising-redirect", ("domain",)),
    ("Suspicious user agent", "User agent {agent} seen on requests to {domain}", True,
     None, ()),
    ("Web browsing", "Visited {domain}", False, None, ()),
    ("File download", "Downloaded {fileName} from {domain}", False, None, ()),
    ("Cloud storage usage", "Uploaded files to {domain}", False, None, ()),
    ("Software update", "Update check at {domain}", False, None, ()),
    ("Peer to peer traffic", "BitTorrent traffic to {ip}", False, None, ()),
    ("Newly seen domain", "First connection to {domain}", False, "new-domain", ("domain",)),
)

FIRST_NAMES = (
    "anna", "bruno", "carla", "david", "eva", "filip", "gita", "hana", "ivan", "jana", "karel",
    "lucie", "marek", "nina", "oskar", "petra", "radek", "sara", "tomas", "vera", "zoe", "adam",
)
LAST_NAMES = (
    "novak", "svoboda", "dvorak", "cerny", "prochazka", "kucera", "vesely", "horak", "nemec",
    "marek", "pospisil", "hajek", "jelinek", "kral", "ruzicka", "benes", "fiala", "sedlacek",
)
DOMAIN_WORDS = (
    "update", "cdn", "secure", "login", "cloud", "static", "track", "mail", "files", "sync",
    "portal", "api", "media", "data", "stats", "adserv", "connect", "service", "micro", "global",
)
TLDS = ("com", "net", "org", "info", "xyz", "top", "ru", "cn", "io", "biz")
FILE_NAMES = (
    "invoice.pdf.exe", "setup.msi", "update.js", "report.docm", "payload.bin", "flash_player.exe",
    "chrome_update.zip", "scan_0042.iso", "readme.hta", "photo.scr",
)
USER_AGENTS = ("Mozilla/4.0 (compatible)", "curl/7.29.0", "Python-urllib/3.8", "WinHTTP", "-")
PROTOCOLS = ("TCP", "TCP", "TCP", "UDP")
# fmt: on


@dataclass(frozen=True)
class ThreatRecord:
    """A threat-intel record of the (global, not customer-scoped) threat catalog."""

    id: str
    title: str
    category: str
    subcategory: str
    severity: str

    def doc(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "subcategory": self.subcategory,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class EventType:
    """A kind of security event: its title, subtitle template and security annotation."""

    id: str
    title: str
    subtitle: str
    convicting: bool
    annotation_id: str | None
    annotation_attributes: tuple[str, ...]


def _stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


THREATS: tuple[ThreatRecord, ...] = tuple(
    ThreatRecord(_stable_id("threat", t[0]), *t) for t in _THREATS
)
EVENT_TYPES: tuple[EventType, ...] = tuple(
    EventType(
        _stable_id("event-type", e[0]),
        e[0],
        e[1],
        e[2],
        _stable_id("annotation", e[3]) if e[3] else None,
        e[4],
    )
    for e in _EVENT_TYPES
)
CONVICTING_TYPES = tuple(t for t in EVENT_TYPES if t.convicting)
CONTEXTUAL_TYPES = tuple(t for t in EVENT_TYPES if not t.convicting)
