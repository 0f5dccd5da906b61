"""Fixtures for end-to-end tests that really mount kerchunkfs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[2]

# A test run started in the background by a shell without job control ignores SIGINT, and the
# daemons it starts would inherit that (libfuse leaves an ignored signal ignored): tests that stop
# a daemon with SIGINT need it to have its default action.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


# Resolved once: some tests change the working directory.
KERCHUNKFS_BIN = os.path.abspath(os.environ.get("KERCHUNKFS_BIN", str(REPO / "build" / "daemon" / "kerchunkfs")))


def kerchunkfs_binary():
    return KERCHUNKFS_BIN


def sanitized():
    """True for the ASan/UBSan and TSan builds, whose shadow memory and quarantine inflate RSS."""
    return any(name in kerchunkfs_binary() for name in ("build-sanitize", "build-tsan"))


def fuse_unavailable_reason():
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is absent: FUSE mounts are impossible on this machine"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not installed (Debian package fuse3)"
    if not os.path.exists(kerchunkfs_binary()):
        return f"{kerchunkfs_binary()} is not built"
    return None


def pytest_collection_modifyitems(config, items):
    reason = fuse_unavailable_reason()
    if reason:
        for item in items:
            if "mounts" in item.fixturenames:
                item.add_marker(pytest.mark.skip(reason=reason))


def write_refs(path, refs):
    Path(path).write_text(json.dumps(refs))
    return Path(path)


class Mounted:
    """A kerchunkfs process in the foreground, serving a mount point."""

    def __init__(self, refs, mountpoint, args, log_path, env=None):
        self.mountpoint = Path(mountpoint)
        self.log_path = Path(log_path)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "wb")
        # Local targets are off by default; tests not about that policy allow them everywhere.
        if not any("allow_local" in str(arg) for arg in args):
            args = [*args, "-o", "allow_local=/"]
        self.process = subprocess.Popen([kerchunkfs_binary(), str(refs), str(mountpoint), "-f", *args],
                                        stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 15
        while not os.path.ismount(mountpoint):
            if self.process.poll() is not None:
                raise RuntimeError(f"kerchunkfs exited with {self.process.returncode}: {self.log()}")
            if time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"mount did not appear: {self.log()}")
            time.sleep(0.01)

    def log(self):
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def path(self, key=""):
        return self.mountpoint / key

    def unmount(self):
        if os.path.ismount(self.mountpoint):
            subprocess.run(["fusermount3", "-u", str(self.mountpoint)], check=True)
        self.process.wait(timeout=15)
        self._log.close()
        return self.process.returncode


@pytest.fixture
def mounts(tmp_path):
    """mounts(refs_path, *args, env=None) mounts a reference set; everything is unmounted at teardown."""
    active = []

    def mount(refs, *args, env=None):
        m = Mounted(refs, tmp_path / f"mnt{len(active)}", args, tmp_path / f"kerchunkfs{len(active)}.log", env)
        active.append(m)
        return m

    yield mount
    for m in active:
        if m.process.poll() is None:
            m.unmount()
    # Under ASan, UBSan or TSan builds a report lands in the daemon's log, not in any assertion.
    for m in active:
        log = m.log()
        for marker in ("Sanitizer", "runtime error:"):
            assert marker not in log, f"sanitizer report from kerchunkfs:\n{log}"


@pytest.fixture(scope="session")
def nginx(tmp_path_factory):
    """nginx serving a directory (its `root`) on a free port; tests write files there."""
    from servers import Nginx, nginx_unavailable_reason

    reason = nginx_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = Nginx(tmp_path_factory.mktemp("www"), tmp_path_factory.mktemp("nginx"))
    yield server
    server.stop()


@pytest.fixture
def fault_server(tmp_path):
    from servers import FaultServer

    root = tmp_path / "fault-root"
    root.mkdir()
    server = FaultServer(root)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """s3rver on a free port with a bucket "bucket", installed from npm into build/node on first use."""
    from servers import S3rver, s3rver_unavailable_reason

    install_dir = REPO / "build" / "node"
    reason = s3rver_unavailable_reason(install_dir)
    if reason:
        pytest.skip(reason)
    server = S3rver(install_dir, tmp_path_factory.mktemp("s3rver"))
    yield server
    server.stop()


def clean_env(**variables):
    """This process's environment without any AWS or GCS setting, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_EMULATOR"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(variables)
    return env


SCAN_BIN = os.path.abspath(os.environ.get("KERCHUNKFS_SCAN_BIN", str(REPO / "build" / "scanner" / "kerchunkfs-scan")))


def scan(*args, check=True, env=None):
    """Runs kerchunkfs-scan; returns the finished process (stderr captured as text)."""
    out = subprocess.run([SCAN_BIN, *map(str, args)], capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert out.returncode == 0, out.stderr
    return out
