"""Build the container image the way CI does, once per session (the ``image`` fixture, made
available to ``test_container_image.py`` by ``conftest.py``).

1. ``debootstrap --variant=minbase`` makes a Debian bookworm root with python3 (image
   registries are not reachable from CI; Debian's mirror is), trimmed and ``podman import``-ed
   as the base image;
2. ``pip wheel`` turns the checkout and its dependencies into wheels (the only network use:
   the package index, from the host);
3. ``podman build --network none`` builds ``Containerfile`` from those wheels.

Where this machine refuses a container step, the exact command and its output are kept in
``Image.refusals`` (tests that need the step skip with them) and the image's contents are still
checked by running ``gta`` in the tree with chroot. Set ``GTA_CONTAINER_TEST=required`` (``.ci/run``
does) to turn a missing tool into a failure instead of a skip. Timings go to ``Image.timings``
and are printed with ``-s``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
MIRROR = os.environ.get("GTA_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("GTA_DEBOOTSTRAP_CACHE", "/var/cache/gta-ci/debootstrap"))
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
# Lowered limits: podman asks the runtime for higher ones (nofile 1048576, nproc 4194304) and
# a sandbox without CAP_SYS_RESOURCE refuses that; lowering a limit is always allowed.
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
GTA_UID = 10001


@dataclass
class Image:
    rootfs: Path  # the debootstrap tree (gta installed into it when the build was refused)
    wheels: Path
    base: str | None = None
    tag: str | None = None
    podman: list[str] = field(default_factory=list)  # podman [--runtime X] that runs containers
    flags: list[str] = field(default_factory=list)  # and the flags it needs for that
    refusals: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def run(
    argv: list[str], timeout: float = 600, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def refusal(argv: list[str], proc: subprocess.CompletedProcess[str]) -> str:
    output = (proc.stdout + proc.stderr).strip()
    return f"$ {' '.join(argv)}\n(exit {proc.returncode})\n{output}"


def _need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root (debootstrap and rootful podman)")
    if missing:
        reason = f"container build needs {', '.join(missing)}"
        if os.environ.get("GTA_CONTAINER_TEST") == "required":
            pytest.fail(reason)
        pytest.skip(reason)


def _timed(
    image: Image, step: str, argv: list[str], **kwargs: object
) -> subprocess.CompletedProcess[str]:
    start = time.monotonic()
    proc = run(argv, **kwargs)
    image.timings[step] = round(time.monotonic() - start, 1)
    return proc


def _debootstrap(image: Image) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--include={BASE_PACKAGES}",
        f"--cache-dir={CACHE}",
        "bookworm",
        str(image.rootfs),
        MIRROR,
    ]
    proc = _timed(image, "debootstrap", argv, timeout=900)
    assert proc.returncode == 0, refusal(argv, proc)
    # What a runtime image does not need: ~140 MB of the 275 MB tree.
    for sub in (
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
        "usr/share/info",
    ):
        for child in (image.rootfs / sub).glob("*"):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def _wheels(image: Image) -> None:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(image.wheels), str(REPO)]
    proc = _timed(image, "pip wheel", argv)
    assert proc.returncode == 0, refusal(argv, proc)
    assert list(image.wheels.glob("gta-*.whl")), sorted(p.name for p in image.wheels.iterdir())


def _choose_runtime(image: Image) -> None:
    """The first podman invocation that can start a container from the base image."""
    candidates: list[tuple[list[str], list[str]]] = [(["podman"], []), (["podman"], ULIMITS)]
    if shutil.which("runc"):
        # crun refuses a hybrid cgroup v1/v2 host ("cgroups in hybrid mode not supported")
        candidates.append((["podman", "--runtime", "runc"], ULIMITS))
    for podman, flags in candidates:
        argv = [*podman, "run", "--rm", "--network", "none", *flags, str(image.base), "/bin/true"]
        proc = run(argv, timeout=120)
        if proc.returncode == 0:
            image.podman, image.flags = podman, flags
            return
        image.refusals.append(refusal(argv, proc))


def _install_into_rootfs(image: Image) -> None:
    """The build's steps, done with chroot: the tree then holds what the image would."""
    shutil.copytree(image.wheels, image.rootfs / "tmp/wheels")
    pip = [
        "/opt/gta/bin/python",
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--no-cache-dir",
        "--find-links",
        "/tmp/wheels",
        "gta",
    ]
    for argv in (
        ["chroot", str(image.rootfs), "python3", "-m", "venv", "/opt/gta"],
        ["chroot", str(image.rootfs), *pip],
        ["chroot", str(image.rootfs), "groupadd", "--system", "--gid", str(GTA_UID), "gta"],
        [
            "chroot",
            str(image.rootfs),
            "useradd",
            "--system",
            "--uid",
            str(GTA_UID),
            "--gid",
            "gta",
            "--home-dir",
            "/var/lib/gta",
            "--no-create-home",
            "gta",
        ],
    ):
        proc = run(argv)
        assert proc.returncode == 0, refusal(argv, proc)
    shutil.rmtree(image.rootfs / "tmp/wheels")


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    _need("debootstrap", "podman", "chroot", "unshare")
    work = tmp_path_factory.mktemp("container")
    name = f"gta-test-{uuid.uuid4().hex[:8]}"
    built = Image(rootfs=work / "rootfs", wheels=work / "context/build/wheels")
    _debootstrap(built)
    _wheels(built)
    built.base = f"localhost/{name}-base:bookworm"
    argv = ["podman", "import", "-q", "-", built.base]
    start = time.monotonic()
    with subprocess.Popen(
        ["tar", "-C", str(built.rootfs), "-c", "."], stdout=subprocess.PIPE
    ) as tar:
        proc = run(argv, stdin=tar.stdout)
    built.timings["podman import"] = round(time.monotonic() - start, 1)
    if proc.returncode != 0:
        built.refusals.append(refusal(argv, proc))
        built.base = None
    try:
        if built.base is not None:
            _choose_runtime(built)
            context = built.wheels.parents[1]
            shutil.copy(REPO / "Containerfile", context / "Containerfile")
            shutil.copy(REPO / ".dockerignore", context / ".dockerignore")
            tag = f"localhost/{name}:latest"
            argv = [
                *(built.podman or ["podman"]),
                "build",
                "-q",
                "--layers=false",  # no intermediate images left behind
                "--network",
                "none",
                *built.flags,
                "--build-arg",
                f"BASE={built.base}",
                "-f",
                str(context / "Containerfile"),
                "-t",
                tag,
                str(context),
            ]
            proc = _timed(built, "podman build", argv)
            if proc.returncode == 0:
                built.tag = tag
            elif built.podman:
                # this machine runs containers, so a failed build is the Containerfile's fault
                pytest.fail(refusal(argv, proc))
            else:
                built.refusals.append(refusal(argv, proc))
        if built.tag is None:
            _install_into_rootfs(built)
        yield built
    finally:
        for ref in (built.tag, built.base):
            if ref:
                run(["podman", "rmi", "-f", ref], timeout=120)
        print("\ncontainer image timings (s):", built.timings)
        for text in built.refusals:
            print("refused by this machine:\n" + text)
