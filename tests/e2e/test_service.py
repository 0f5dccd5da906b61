"""kerchunkfs as a system service: the systemd notification protocol spoken to a fake
NOTIFY_SOCKET (no systemd needed), the unit file, and mounting through mount(8) and fstab."""

import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import REPO, write_refs


def refs_file(tmp_path):
    return write_refs(tmp_path / "refs.json", {".zgroup": '{"zarr_format": 2}', "a/b": "hello"})


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_is_sent_once_the_mount_answers_and_stopping_at_the_end(tmp_path, mounts, abstract):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    address = f"@kerchunkfs-test-{os.getpid()}-{time.monotonic_ns()}" if abstract else str(tmp_path / "notify.sock")
    listener.bind("\0" + address[1:] if abstract else address)
    listener.settimeout(15)
    m = mounts(refs_file(tmp_path), env=dict(os.environ, NOTIFY_SOCKET=address))
    message = listener.recv(4096).decode()
    lines = message.splitlines()
    assert lines[0] == "READY=1", message
    assert lines[1].startswith("STATUS=serving ") and str(m.path()).rstrip("/") in lines[1]
    assert (m.path("a/b")).read_text() == "hello"  # it answers
    m.unmount()
    assert listener.recv(4096).decode() == "STOPPING=1"


def test_no_notify_socket_means_no_notification_and_a_normal_mount(tmp_path, mounts):
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    m = mounts(refs_file(tmp_path), env=env)
    assert (m.path("a/b")).read_text() == "hello"
    # No line about notifying (the load summary names the set, whose path holds this test's name).
    assert "notify" not in m.log().replace(str(tmp_path), "")


UNIT = REPO / "packaging" / "systemd" / "kerchunkfs@.service"


def unit_value(name):
    return next(line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(name + "="))


def test_the_unit_file_verifies_and_its_command_mounts_and_notifies(tmp_path):
    from conftest import kerchunkfs_binary
    if shutil.which("systemd-analyze"):
        unit = tmp_path / "kerchunkfs@test.service"
        unit.write_text(UNIT.read_text().replace("/usr/bin/kerchunkfs", kerchunkfs_binary()))
        out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
        assert out.returncode == 0 and out.stderr.strip() == "", out.stderr
    else:
        print("systemd-analyze is not installed: the unit is not verified, only its command run")
    assert unit_value("Type") == "notify" and unit_value("ExecStart").startswith("/usr/bin/kerchunkfs ${REFS} ${MOUNTPOINT} -f")
    # what systemd runs, with the variables an /etc/kerchunkfs/NAME.env gives
    env = {"REFS": str(refs_file(tmp_path)), "MOUNTPOINT": str(tmp_path / "mnt"), "OPTIONS": "ro,allow_other"}
    (tmp_path / "mnt").mkdir()
    command = unit_value("ExecStart").replace("/usr/bin/kerchunkfs", kerchunkfs_binary())
    for name, value in env.items():
        command = command.replace("${" + name + "}", value)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify.sock"))
    listener.settimeout(15)
    process = subprocess.Popen(command.split(), env=dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock")))
    try:
        assert listener.recv(4096).decode().startswith("READY=1\n")
        assert (tmp_path / "mnt" / "a" / "b").read_text() == "hello"
    finally:
        process.terminate()  # systemctl stop: SIGTERM
        assert process.wait(timeout=15) == 0
    assert not os.path.ismount(tmp_path / "mnt")


def mount_command_reason():
    if os.geteuid() != 0:
        return "mount(8) needs root"
    if shutil.which("mount.fuse3") is None and not os.path.exists("/sbin/mount.fuse3"):
        return "mount.fuse3 is not installed (Debian package fuse3)"
    return None


@pytest.fixture
def mount_point(tmp_path):
    reason = mount_command_reason()
    if reason:
        pytest.skip(reason)
    path = tmp_path / "mnt"
    path.mkdir()
    yield path
    if os.path.ismount(path):
        subprocess.run(["umount", str(path)])


def wait_gone(pattern):
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, f"{pattern} still running after umount"
        time.sleep(0.05)


def test_mount_8_with_fuse_type_and_mount_options_then_umount(tmp_path, mount_point):
    from conftest import kerchunkfs_binary
    refs = refs_file(tmp_path)
    # "fuse" with PROGRAM#SOURCE runs this build's binary; installed, "-t fuse.kerchunkfs REFS" does the same.
    subprocess.run(["mount", "-t", "fuse", f"{kerchunkfs_binary()}#{refs}", str(mount_point),
                    "-o", "ro,allow_other,_netdev,nofail,cache_size=64M"], check=True, timeout=30)
    assert (mount_point / "a" / "b").read_text() == "hello"
    line = next(l for l in open("/proc/mounts") if f" {mount_point} " in l)
    assert line.split()[2] == "fuse.kerchunkfs" and "allow_other" in line and line.split()[0] == str(refs)
    subprocess.run(["umount", str(mount_point)], check=True)
    wait_gone(f"kerchunkfs {refs}")


def test_an_fstab_line_mounts_with_mount_8(tmp_path, mount_point):
    from conftest import kerchunkfs_binary
    refs = refs_file(tmp_path)
    fstab = tmp_path / "fstab"
    fstab.write_text(f"{kerchunkfs_binary()}#{refs} {mount_point} fuse "
                     "ro,allow_other,_netdev,nofail,x-systemd.automount,prefetch=0 0 0\n")
    subprocess.run(["mount", "--fstab", str(fstab), str(mount_point)], check=True, timeout=30)
    assert (mount_point / "a" / "b").read_text() == "hello"
    subprocess.run(["umount", str(mount_point)], check=True)


def test_the_mount_helper_is_what_mount_8_runs_for_type_kerchunkfs(tmp_path, mount_point):
    from conftest import kerchunkfs_binary
    helper = REPO / "build" / "packaging" / "mount.kerchunkfs"
    if not helper.exists():
        pytest.skip(f"{helper} is not built")
    refs = refs_file(tmp_path)
    # mount(8) calls /sbin/mount.kerchunkfs SOURCE DIR -o OPTIONS; KERCHUNKFS points it at this build
    subprocess.run(["sh", str(helper), str(refs), str(mount_point), "-o", "ro,_netdev,allow_other"], check=True,
                   env=dict(os.environ, KERCHUNKFS=kerchunkfs_binary()), timeout=30)
    assert (mount_point / "a" / "b").read_text() == "hello"
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_synthesized_zmetadata_equals_what_zarr_consolidates(tmp_path, mounts):
    import json
    import netCDF4
    import numpy as np
    import xarray as xr
    import zarr
    from conftest import scan
    path = tmp_path / "groups.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "consolidated"
        nc.createDimension("x", 6)
        v = nc.createVariable("v", "f4", ("x",))
        v.units = "m"
        v[:] = np.arange(6)
        g = nc.createGroup("inner").createGroup("deeper")
        g.createDimension("y", 3)
        w = g.createVariable("w", "i2", ("y",))
        w[:] = [1, 2, 3]
    scan(path, "-o", tmp_path / "refs.json")
    m = mounts(tmp_path / "refs.json")
    assert ".zmetadata" in os.listdir(m.path())
    served = json.loads(m.path(".zmetadata").read_text())
    copy = tmp_path / "copy"
    shutil.copytree(m.path(), copy, ignore=shutil.ignore_patterns(".zmetadata"))
    zarr.consolidate_metadata(str(copy))
    assert served == json.loads((copy / ".zmetadata").read_text())
    xr.testing.assert_identical(xr.open_zarr(str(m.path()), consolidated=True).load(),
                                xr.open_zarr(str(m.path()), consolidated=False).load())
    # turned off, or the set's own: nothing synthesized
    off = mounts(tmp_path / "refs.json", "-o", "no_zmetadata")
    assert ".zmetadata" not in os.listdir(off.path()) and not off.path(".zmetadata").exists()
    refs = json.loads((tmp_path / "refs.json").read_text())
    refs["refs"][".zmetadata"] = '{"metadata": {}, "zarr_consolidated_format": 1}'
    (tmp_path / "own.json").write_text(json.dumps(refs))
    own = mounts(tmp_path / "own.json")
    assert json.loads(own.path(".zmetadata").read_text()) == {"metadata": {}, "zarr_consolidated_format": 1}
    assert os.listdir(own.path()).count(".zmetadata") == 1


def test_log_level_error_keeps_only_errors(tmp_path, mounts):
    refs = refs_file(tmp_path)
    chatty = mounts(refs)
    chatty.unmount()
    assert "cache:" in chatty.log()  # the unmount summary is an info line
    quiet = mounts(refs, "-o", "log_level=error")
    quiet.unmount()
    assert "cache:" not in quiet.log()
    from conftest import kerchunkfs_binary
    out = subprocess.run([kerchunkfs_binary(), str(refs), str(tmp_path), "-o", "log_level=loud"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2 and "log_level=loud: the levels are info and error" in out.stderr


def parse_prometheus(text):
    """{name or name{labels}: value}; fails on a line that is not the text exposition format."""
    import re
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)', line)
        assert match, f"not exposition format: {line!r}"
        values[match.group(1)] = float(match.group(2))
    return values


def test_stats_count_what_was_read_and_fetched_in_prometheus_text_format(tmp_path, mounts, nginx):
    import numpy as np
    data = np.random.default_rng(1).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    (nginx.root / "stats.bin").write_bytes(data)
    refs = write_refs(tmp_path / "refs.json", {**{f"c/{i}": [nginx.url("stats.bin"), i * 65536, 65536] for i in range(16)},
                                                "note": "hi"})
    m = mounts(refs, "-o", "prefetch=0")
    assert ".kerchunkfs" not in os.listdir(m.path())  # hidden from listings
    assert os.listdir(m.path(".kerchunkfs")) == ["stats"]
    before = parse_prometheus(m.path(".kerchunkfs/stats").read_text())
    for i in range(16):
        assert m.path(f"c/{i}").read_bytes() == data[i * 65536:(i + 1) * 65536]
    m.path("c/0").read_bytes()  # from the page cache or the block cache: no new request
    after = parse_prometheus(m.path(".kerchunkfs/stats").read_text())
    requests = after["kerchunkfs_http_requests_total"] - before["kerchunkfs_http_requests_total"]
    assert requests == nginx.gets("stats.bin") == 16
    assert after["kerchunkfs_http_received_bytes_total"] - before["kerchunkfs_http_received_bytes_total"] == 1 << 20
    assert after["kerchunkfs_cache_misses_total"] >= 16 and after["kerchunkfs_read_bytes_total"] >= 1 << 20
    assert after['kerchunkfs_http_errors_total{kind="network"}'] == 0
    # A streamed answer reaches its reader before curl has closed the attempt: the gauge drains
    # to 0 a moment after the last read returns.
    deadline = time.monotonic() + 5
    while parse_prometheus(m.path(".kerchunkfs/stats").read_text())["kerchunkfs_http_in_flight"] != 0:
        assert time.monotonic() < deadline, "an attempt stayed in flight"
        time.sleep(0.01)
    assert after['kerchunkfs_http_request_seconds{quantile="0.5"}'] > 0
    assert after["kerchunkfs_references"] == 17 and after["kerchunkfs_generations"] == 1
    # statfs counts the bytes of every file, in its blocks (counted on first use, not at mount)
    st = os.statvfs(m.path())
    assert st.f_blocks == -(-(16 * 65536 + len("hi")) // st.f_frsize)
    off = mounts(refs, "-o", "no_stats")
    assert not off.path(".kerchunkfs").exists()


def test_a_key_given_twice_serves_the_later_value_everywhere(tmp_path, mounts):
    import json
    # fsspec keeps the later of two equal keys; so does the mount, in files and in .zmetadata
    text = ('{"version": 1, "refs": {".zgroup": "{\\"zarr_format\\": 2}", "a/.zattrs": "{\\"v\\": 1}", '
            '"a/.zarray": "{\\"chunks\\": [1], \\"compressor\\": null, \\"dtype\\": \\"|u1\\", \\"fill_value\\": 0, '
            '\\"filters\\": null, \\"order\\": \\"C\\", \\"shape\\": [1], \\"zarr_format\\": 2}", '
            '"a/.zattrs": "{\\"v\\": 2}", "a/0": "x"}}')
    (tmp_path / "twice.json").write_text(text)
    m = mounts(tmp_path / "twice.json")
    assert json.loads(m.path("a/.zattrs").read_text()) == {"v": 2}
    assert json.loads(m.path(".zmetadata").read_text())["metadata"]["a/.zattrs"] == {"v": 2}
    assert sorted(os.listdir(m.path("a"))) == [".zarray", ".zattrs", "0"]
