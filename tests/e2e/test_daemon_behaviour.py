"""Bad input, broken targets, signals and daemon mode."""

import errno
import os
import signal
import subprocess
import time

import pytest

from conftest import kerchunkfs_binary, write_refs

BAD_REFERENCE_SETS = [
    # (name, JSON text, what the one-line error must mention)
    ("syntax", '{"a": "x",\n "b": ["f", 1, 2,}', "invalid JSON"),
    ("negative offset", '{"v/0": ["data.bin", -4, 10]}', 'key "v/0": offset -4'),
    ("huge length", '{"v/0": ["data.bin", 0, 99999999999999999999]}', 'key "v/0": length'),
    ("bad base64", '{"v/.zarray": "base64:@@@"}', 'key "v/.zarray": invalid base64'),
    ("unknown template", '{"version": 1, "templates": {"a": "b"}, "refs": {"k": ["{{zz}}", 0, 1]}}',
     "unknown template or variable 'zz'"),
    ("bad gen", '{"version": 1, "gen": [{"key": "k{{i}}", "url": "u", "offset": "{{i/2}}", "length": "1",'
     ' "dimensions": {"i": [1]}}]}', "gen[0]"),
    ("dot segment", '{"a/../etc": ["data.bin", 0, 1]}', "'.' and '..'"),
    ("file and directory", '{"a": "x", "a/b": "y"}', "is both a file and a directory"),
    ("version", '{"version": 3}', "unsupported reference spec version 3"),
    ("unsupported scheme", '{"v/0": ["gopher://host/data.bin", 0, 10]}', 'key "v/0": URL gopher://'),
    ("null url", '{"v/0": [null, 0, 10]}', "null URL and no default target"),
]


@pytest.mark.parametrize("name,text,message", BAD_REFERENCE_SETS, ids=[b[0] for b in BAD_REFERENCE_SETS])
def test_bad_reference_sets_fail_with_one_line_and_mount_nothing(tmp_path, name, text, message):
    refs = tmp_path / "bad.json"
    refs.write_text(text)
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    out = subprocess.run([kerchunkfs_binary(), str(refs), str(mountpoint), "-f"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert str(refs) in lines[0] and message in lines[0], lines[0]
    assert not os.path.ismount(mountpoint)


def test_usage_help_and_version(tmp_path):
    out = subprocess.run([kerchunkfs_binary(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage:" in out.stdout and "target=URL" in out.stdout
    out = subprocess.run([kerchunkfs_binary(), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("kerchunkfs ")
    out = subprocess.run([kerchunkfs_binary(), str(tmp_path / "refs.json")], capture_output=True, text=True)
    assert out.returncode == 2 and "usage:" in out.stderr
    out = subprocess.run([kerchunkfs_binary(), str(tmp_path / "missing.json"), str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "missing.json: No such file or directory" in out.stderr


def test_a_broken_target_fails_that_read_alone(tmp_path, mounts):
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 4)
    m = mounts(write_refs(tmp_path / "refs.json", {
        "good": ["data.bin", 10, 20],
        "missing": ["gone.bin", 0, 10],
        "short": ["data.bin", 1000, 100],  # the file has 1024 bytes
        "whole_missing": ["gone.bin"],
    }))
    for key in ("missing", "short"):
        with pytest.raises(OSError) as error:
            m.path(key).read_bytes()
        assert error.value.errno == errno.EIO, key
    with pytest.raises(OSError) as error:
        os.stat(m.path("whole_missing"))
    assert error.value.errno == errno.EIO
    assert m.path("good").read_bytes() == (bytes(range(256)) * 4)[10:30]
    assert m.process.poll() is None
    log = m.log()
    assert "missing: cannot open" in log and "gone.bin" in log
    assert "short: target ends before the referenced range: got 24 of 100 bytes" in log


def test_sigint_in_the_foreground_unmounts_cleanly(tmp_path, mounts):
    (tmp_path / "data.bin").write_bytes(b"x" * 100)
    m = mounts(write_refs(tmp_path / "refs.json", {"k": ["data.bin", 0, 100]}))
    assert m.path("k").read_bytes() == b"x" * 100
    m.process.send_signal(signal.SIGINT)
    assert m.process.wait(timeout=15) == 0
    assert not os.path.ismount(m.mountpoint)


def daemon_pids(refs_path):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"kerchunkfs") and str(refs_path).encode() in cmdline:
                pids.append(int(entry))
    return pids


def test_daemon_mode_detaches_and_stops_on_sigterm(tmp_path):
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is absent: FUSE mounts are impossible on this machine")
    (tmp_path / "data.bin").write_bytes(b"0123456789")
    refs = write_refs(tmp_path / "refs.json", {"dir/k": ["data.bin", 2, 5]})
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    out = subprocess.run([kerchunkfs_binary(), str(refs), str(mountpoint), "-o", f"allow_local={tmp_path}"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    try:
        # The command returns once the mount answers.
        assert os.path.ismount(mountpoint)
        assert (mountpoint / "dir" / "k").read_bytes() == b"23456"
        pids = daemon_pids(refs)
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGTERM)
        deadline = time.monotonic() + 15
        while (os.path.ismount(mountpoint) or daemon_pids(refs)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.ismount(mountpoint)
        assert not daemon_pids(refs)
    finally:
        if os.path.ismount(mountpoint):
            subprocess.run(["fusermount3", "-u", str(mountpoint)])


def test_standard_fuse_options_pass_through(tmp_path, mounts):
    (tmp_path / "data.bin").write_bytes(b"abc")
    m = mounts(write_refs(tmp_path / "refs.json", {"k": ["data.bin", 0, 3]}), "-o", "allow_other,default_permissions")
    options = next(line.split()[3] for line in open("/proc/mounts") if line.split()[1] == str(m.mountpoint))
    assert {"ro", "allow_other", "default_permissions"} <= set(options.split(","))
    fstype = next(line.split()[2] for line in open("/proc/mounts") if line.split()[1] == str(m.mountpoint))
    assert fstype == "fuse.kerchunkfs"
    assert m.path("k").read_bytes() == b"abc"
