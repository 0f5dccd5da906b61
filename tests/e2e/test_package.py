"""The Debian package (packaging/build-deb, run by scripts/test): it installs, and what it
installed works — both programs, the man pages, the unit, and mount(8) with the helper."""

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, write_refs

# The pages and the package are the release build's; the sanitizer passes leave them out.
pytestmark = pytest.mark.release_only


def package():
    found = sorted(p for p in glob.glob(str(REPO / "build" / "deb" / "kerchunkfs_*.deb")))
    return Path(found[-1]) if found else None


@pytest.fixture(scope="module")
def installed():
    deb = package()
    if deb is None:
        pytest.skip("no .deb in build/deb (packaging/build-deb builds it; scripts/test runs that)")
    if os.geteuid() != 0:
        pytest.skip("installing the package needs root")
    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True, timeout=120)
    yield deb
    subprocess.run(["dpkg", "-r", "kerchunkfs"], check=True, capture_output=True, timeout=120)


def test_the_package_installs_the_programs_pages_unit_and_helper(installed):
    version = subprocess.run(["/usr/bin/kerchunkfs", "--version"], capture_output=True, text=True, check=True)
    assert "kerchunkfs 0.1.0" in version.stdout
    assert subprocess.run(["/usr/bin/kerchunkfs-scan", "--help"], capture_output=True).returncode == 0
    for page in ("man1/kerchunkfs.1.gz", "man1/kerchunkfs-scan.1.gz", "man8/mount.kerchunkfs.8.gz"):
        assert Path("/usr/share/man", page).exists(), page
    assert Path("/sbin/mount.kerchunkfs").exists() and os.access("/sbin/mount.kerchunkfs", os.X_OK)
    unit = Path("/usr/lib/systemd/system/kerchunkfs@.service")
    assert unit.exists()
    if shutil.which("systemd-analyze"):
        out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
        assert out.returncode == 0 and out.stderr.strip() == "", out.stderr


@pytest.mark.parametrize("fstype", ["kerchunkfs", "fuse.kerchunkfs"])
def test_mount_8_mounts_with_the_installed_programs(installed, tmp_path, fstype):
    refs = write_refs(tmp_path / "refs.json", {".zgroup": '{"zarr_format": 2}', "a/b": "installed"})
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", fstype, str(refs), str(mountpoint), "-o", "ro,allow_other,_netdev"],
                   check=True, timeout=30)
    try:
        assert (mountpoint / "a" / "b").read_text() == "installed"
        line = next(l for l in open("/proc/mounts") if f" {mountpoint} " in l)
        assert line.split()[2] == "fuse.kerchunkfs"
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", f"kerchunkfs {refs}"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
