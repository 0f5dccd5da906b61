"""Local targets' bytes go to the kernel spliced from the file's own pages (no copy through the
daemon), in requests of the readahead window the daemon sets for its mount: the bytes read must be
the file's, whatever the offsets and read sizes, and a file cut short under the mount must still
give EIO with a log line rather than short or stale bytes."""

import errno
import os
import random

import pytest

from conftest import write_refs

MIB = 1 << 20


def test_large_local_ranges_read_as_the_file_holds_them(tmp_path, mounts):
    data = os.urandom(24 * MIB + 12345)
    (tmp_path / "data.bin").write_bytes(data)
    m = mounts(write_refs(tmp_path / "refs.json", {
        "range": ["data.bin", 4097, 20 * MIB + 3],  # starts and ends off any page boundary
        "whole": ["data.bin"],
    }))
    assert m.path("range").read_bytes() == data[4097:4097 + 20 * MIB + 3]
    with open(m.path("whole"), "rb") as whole:
        assert whole.read() == data
        rng = random.Random(7)
        for _ in range(200):
            at, size = rng.randrange(len(data)), rng.choice((1, 4095, 4096, 65537, MIB + 1))
            assert os.pread(whole.fileno(), size, at) == data[at:at + size], (at, size)
    assert m.process.poll() is None


def test_a_local_file_cut_short_under_the_mount_gives_eio(tmp_path, mounts):
    (tmp_path / "data.bin").write_bytes(os.urandom(8 * MIB))
    m = mounts(write_refs(tmp_path / "refs.json", {"range": ["data.bin", MIB, 6 * MIB]}))
    os.truncate(tmp_path / "data.bin", 3 * MIB)
    with open(m.path("range"), "rb") as f:
        with pytest.raises(OSError) as error:
            os.pread(f.fileno(), MIB, 4 * MIB)  # beyond the file's new end
        assert error.value.errno == errno.EIO
    assert "range: target ends before the referenced range" in m.log()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may set a mount's readahead window")
def test_the_mount_reads_ahead_in_half_mebibyte_requests(tmp_path, mounts):
    (tmp_path / "data.bin").write_bytes(b"x")
    m = mounts(write_refs(tmp_path / "refs.json", {"x": ["data.bin"]}))
    device = next(line.split()[2] for line in open("/proc/self/mountinfo")
                  if line.split()[4] == str(m.mountpoint))
    assert open(f"/sys/class/bdi/{device}/read_ahead_kb").read().strip() == "512"
