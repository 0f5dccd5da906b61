"""Reference sets from untrusted hands: local files only under directories the user allows
(links resolved, also when swapped after mounting), remote hosts only from a list when one is
given (redirects included), no link-local / instance-metadata targets, sizes bounded before
memory is spent, passwords and signatures kept out of logs, and a read-only, kernel-checked mount."""

import errno
import json
import os
import subprocess
import time

import pytest

from conftest import kerchunkfs_binary, scan, write_refs


def mount_fails(refs, mountpoint, *options):
    """Runs the daemon expecting it to refuse the set: returns its one line of error."""
    mountpoint.mkdir(exist_ok=True)
    out = subprocess.run([kerchunkfs_binary(), str(refs), str(mountpoint), "-f", *options], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 1, out.stderr
    assert not os.path.ismount(mountpoint)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.fixture
def tree(tmp_path):
    """An allowed directory with a data file, and a secret beside it."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "data.bin").write_bytes(b"public bytes")
    (tmp_path / "secret.bin").write_bytes(b"private bytes")
    return allowed


def test_local_targets_are_refused_unless_a_directory_is_allowed(tmp_path, tree):
    refs = write_refs(tmp_path / "refs.json", {"a/0": [str(tree / "data.bin"), 0, 6]})
    line = mount_fails(refs, tmp_path / "mnt")
    assert 'key "a/0"' in line and str(tree / "data.bin") in line and "allow_local" in line


def test_only_paths_inside_allowed_directories_are_read(tmp_path, tree, mounts):
    m = mounts(write_refs(tmp_path / "ok.json", {"a/0": [str(tree / "data.bin"), 0, 6], "b": "inline"}),
               "-o", f"allow_local={tmp_path / 'elsewhere'}:{tree}".replace("elsewhere", "allowed"))
    assert m.path("a/0").read_bytes() == b"public"
    (tree / "link.bin").symlink_to(tmp_path / "secret.bin")
    for target, reason in [("/etc/hostname", "outside the directories -o allow_local allows"),
                           (f"{tree}/../secret.bin", f"resolves to {tmp_path / 'secret.bin'}"),
                           (str(tree / "link.bin"), f"resolves to {tmp_path / 'secret.bin'}"),
                           (f"file://{tmp_path / 'secret.bin'}", "outside the directories")]:
        refs = write_refs(tmp_path / "bad.json", {"x/0": [target, 0, 4]})
        line = mount_fails(refs, tmp_path / "mnt-bad", "-o", f"allow_local={tree}")
        assert 'key "x/0"' in line and reason in line, line
    # A relative path is relative to the reference file: fine while it stays inside.
    (tree / "refs.json").write_text(json.dumps({"r": ["data.bin", 7, 5]}))
    assert mounts(tree / "refs.json", "-o", f"allow_local={tree}").path("r").read_bytes() == b"bytes"


def test_a_link_swapped_after_mounting_is_refused_at_read_time(tmp_path, tree, mounts):
    link = tree / "link.bin"
    link.symlink_to(tree / "data.bin")
    m = mounts(write_refs(tmp_path / "refs.json", {"k": [str(link), 0, 6]}), "-o", f"allow_local={tree}")
    link.unlink()
    link.symlink_to(tmp_path / "secret.bin")  # now pointing out of the allowed directory
    with pytest.raises(OSError) as error:
        m.path("k").read_bytes()
    assert error.value.errno == errno.EIO
    assert "refused to read" in m.log() and str(tmp_path / "secret.bin") in m.log()


def test_remote_hosts_can_be_limited_redirects_included(nginx, tmp_path, mounts):
    (nginx.root / f"{tmp_path.name}.bin").write_bytes(b"0123456789")
    name = f"{tmp_path.name}.bin"
    refs = write_refs(tmp_path / "refs.json", {"direct": [nginx.url(name), 2, 4],
                                               "moved": [f"http://127.0.0.1:{nginx.port}/to-localhost/{name}", 2, 4]})
    line = mount_fails(refs, tmp_path / "mnt", "-o", "allow_hosts=data.example.org:*.example.net")
    assert 'key "direct"' in line and "host 127.0.0.1 is not among -o allow_hosts" in line
    m = mounts(refs, "-o", "allow_hosts=127.0.0.1")
    assert m.path("direct").read_bytes() == b"2345"
    with pytest.raises(OSError) as error:
        m.path("moved").read_bytes()  # redirected to "localhost", which is not on the list
    assert error.value.errno == errno.EIO
    assert "host localhost is not among the allowed hosts" in m.log()
    assert mounts(refs).path("moved").read_bytes() == b"2345"  # without a list, any host


def test_link_local_metadata_addresses_are_no_data_targets(nginx, tmp_path, mounts):
    refs = write_refs(tmp_path / "direct.json", {"k": ["http://169.254.169.254/latest/meta-data/iam/info", 0, 10]})
    line = mount_fails(refs, tmp_path / "mnt")
    assert "169.254.169.254" in line and "link-local" in line
    refs = write_refs(tmp_path / "ipv6.json", {"k": ["http://[fd00:ec2::254]/latest/meta-data/", 0, 10]})
    assert "link-local" in mount_fails(refs, tmp_path / "mnt")
    # Reached through a redirect: refused before any connection is made, so at once.
    refs = write_refs(tmp_path / "moved.json", {"k": [f"http://127.0.0.1:{nginx.port}/to-metadata/latest/x", 0, 10]})
    m = mounts(refs)
    started = time.monotonic()
    with pytest.raises(OSError) as error:
        m.path("k").read_bytes()
    assert error.value.errno == errno.EIO and time.monotonic() - started < 5
    assert "refused to connect to 169.254.169.254" in m.log()
    # The scanner refuses it as well.
    out = scan("http://169.254.169.254/latest/x.nc", "-o", tmp_path / "x.json", check=False)
    assert out.returncode == 1 and "link-local" in out.stderr


def test_sets_too_large_for_memory_are_refused_with_the_limit(tmp_path, mounts):
    huge = write_refs(tmp_path / "huge.json", {"version": 1, "gen": [
        {"key": "v/{{i}}", "url": "http://data.example.org/f.nc", "offset": "{{i * 10}}", "length": "10",
         "dimensions": {"i": {"stop": 5_000_000_000}}}]})
    line = mount_fails(huge, tmp_path / "mnt")
    assert "5000000000 values, more than the limit of 100000000" in line
    small = write_refs(tmp_path / "small.json", {"version": 1, "gen": [
        {"key": "v/{{i}}", "url": "http://data.example.org/f.nc", "offset": "{{i * 10}}", "length": "10",
         "dimensions": {"i": {"stop": 1000}}}]})
    assert "1000 values, more than the limit of 100" in mount_fails(small, tmp_path / "mnt", "-o", "max_keys=100")
    assert sorted(os.listdir(mounts(small, "-o", "max_keys=2000").path("v")))[:2] == ["0", "1"]
    line = mount_fails(write_refs(tmp_path / "far.json", {"k": ["http://h/f", 2**48, 1]}), tmp_path / "mnt")
    assert 'key "k"' in line and "too large" in line


def test_passwords_and_signatures_stay_out_of_logs(fault_server, tmp_path, mounts):
    (fault_server.root / "f.bin").write_bytes(b"x" * 100)
    base = f"http://reader:hunter2@127.0.0.1:{fault_server.port}/notfound/0/f.bin"
    refs = write_refs(tmp_path / "refs.json", {"k": [base + "?X-Amz-Signature=s3cr3t&part=1", 0, 10]})
    m = mounts(refs, "-o", "retries=0")
    with pytest.raises(OSError):
        m.path("k").read_bytes()
    log = m.log()
    assert "404" in log and "reader:***@" in log and "X-Amz-Signature=***" in log
    assert "hunter2" not in log and "s3cr3t" not in log


def test_the_mount_is_read_only_and_the_kernel_checks_permissions(tmp_path, mounts):
    m = mounts(write_refs(tmp_path / "refs.json", {"d/k": "abc"}))
    options = next(line.split()[3] for line in open("/proc/mounts") if line.split()[1] == str(m.mountpoint))
    assert {"ro", "default_permissions"} <= set(options.split(","))
    assert "allow_other" not in options.split(",")  # only when asked
    for attempt in (lambda: open(m.path("d/k"), "w"), lambda: open(m.path("d/new"), "w"),
                    lambda: os.mkdir(m.path("d/sub")), lambda: os.unlink(m.path("d/k")),
                    lambda: os.chmod(m.path("d/k"), 0o666), lambda: os.rename(m.path("d/k"), m.path("d/j"))):
        with pytest.raises(OSError) as error:
            attempt()
        assert error.value.errno == errno.EROFS
    assert oct(os.stat(m.path("d/k")).st_mode & 0o777) == "0o444"
    assert oct(os.stat(m.path("d")).st_mode & 0o777) == "0o555"
