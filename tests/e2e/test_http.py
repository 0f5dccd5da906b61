"""Remote data: reads over HTTP equal the source, cost the requests they should, and survive
faulty servers."""

import errno
import json
import os
import threading
import time

import h5py
import numpy as np
import pytest
import zarr

import h5refs
from conftest import write_refs


def make_chunked(path, chunks=100, chunk_shape=(64, 64), compression="gzip"):
    rng = np.random.default_rng(7)
    data = rng.normal(size=(chunks, *chunk_shape)).astype("<f4")
    with h5py.File(path, "w") as f:
        f.create_dataset("v", data=data, chunks=(1, *chunk_shape), compression=compression)
    return data


def chunk_keys(refs, var="v"):
    keys = [k for k, v in refs.items() if k.startswith(var + "/") and isinstance(v, list)]
    return sorted(keys, key=lambda k: [int(x) for x in k.split("/")[1].split(".")])


def test_zarr_over_http_equals_h5py_and_chunks_equal_the_file(nginx, tmp_path, mounts):
    source = nginx.root / "equal.h5"
    data = make_chunked(source)
    refs = h5refs.build(source, url=nginx.url("equal.h5"))
    m = mounts(write_refs(tmp_path / "refs.json", refs))
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)
    raw = source.read_bytes()
    for key in chunk_keys(refs):
        _, offset, length = refs[key]
        assert m.path(key).read_bytes() == raw[offset:offset + length], key


def test_whole_file_and_large_ranges_are_read_in_blocks(nginx, tmp_path, mounts):
    blob = os.urandom(3_000_000)
    (nginx.root / "blob.bin").write_bytes(blob)
    refs = {"whole": [nginx.url("blob.bin")], "big": [nginx.url("blob.bin"), 12_345, 2_500_000]}
    m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "block_size=256K")
    assert os.stat(m.path("whole")).st_size == len(blob)
    assert m.path("whole").read_bytes() == blob
    assert m.path("big").read_bytes() == blob[12_345:12_345 + 2_500_000]
    with open(m.path("big"), "rb") as f:  # a read that spans two blocks
        f.seek(262_000)
        assert f.read(5000) == blob[12_345 + 262_000:12_345 + 267_000]
    gets = nginx.gets("blob.bin")
    assert gets <= 2 + 3_000_000 // 262_144 + 2 + 1, gets  # about one GET per block, plus the size probe


def read_in_pieces(path, piece=131072):
    out = bytearray()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(piece):
            out += chunk
    return bytes(out)


def test_one_get_per_chunk_file_read_whole(nginx, tmp_path, mounts):
    source = nginx.root / "onepiece.h5"
    make_chunked(source, chunks=4, chunk_shape=(512, 512), compression=None)  # 1 MiB chunks
    refs = h5refs.build(source, url=nginx.url("onepiece.h5"))
    m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "prefetch=0")
    raw = source.read_bytes()
    for key in chunk_keys(refs):
        _, offset, length = refs[key]
        assert length == 1 << 20
        assert read_in_pieces(m.path(key)) == raw[offset:offset + length]
    assert nginx.gets("onepiece.h5") == 4
    for key in chunk_keys(refs):  # served from the cache (or the kernel's page cache) now
        read_in_pieces(m.path(key))
    assert nginx.gets("onepiece.h5") == 4
    m.unmount()
    # The summary logged at unmount agrees with the server's own log.
    assert "http: 4 requests (0 retries), 0 failed reads, 4194304 bytes received; cache: " in m.log()


def test_concurrent_readers_of_one_chunk_make_one_get(nginx, tmp_path, mounts):
    source = nginx.root / "shared.h5"
    make_chunked(source, chunks=2, chunk_shape=(256, 256), compression=None)
    refs = h5refs.build(source, url=nginx.url("shared.h5", slow=True))
    m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "prefetch=0")
    key = chunk_keys(refs)[0]
    _, offset, length = refs[key]
    expected = source.read_bytes()[offset:offset + length]
    results = []
    barrier = threading.Barrier(8)

    def reader():
        barrier.wait()
        results.append(read_in_pieces(m.path(key), 65536))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8
    assert nginx.gets("shared.h5") == 1


def test_adjacent_chunks_are_fetched_with_few_coalesced_gets(nginx, tmp_path, mounts):
    source = nginx.root / "adjacent.h5"
    data = make_chunked(source, chunks=200, chunk_shape=(32, 32))
    refs = h5refs.build(source, url=nginx.url("adjacent.h5", slow=True))
    m = mounts(write_refs(tmp_path / "refs.json", refs))
    raw = source.read_bytes()
    keys = chunk_keys(refs)
    assert len(keys) == 200
    for key in keys:  # a serial reader, in C order
        _, offset, length = refs[key]
        assert m.path(key).read_bytes() == raw[offset:offset + length]
    gets = nginx.gets("adjacent.h5")
    assert gets <= 12, gets  # the read-ahead window doubles: 4, 8, 16, ... chunks per GET
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)


FAULTS = [
    # (mode, faulty attempts, mount options)
    ("fail503", 2, []),
    ("reset", 1, []),
    ("truncate", 1, []),
    ("wrongrange", 1, []),
    ("norange", 0, []),
    ("stall", 1, ["-o", "timeout=1"]),
]


@pytest.mark.parametrize("mode,times,options", FAULTS, ids=[f[0] for f in FAULTS])
def test_faults_are_retried_until_the_bytes_are_right(fault_server, tmp_path, mounts, mode, times, options):
    blob = os.urandom(200_000)
    (fault_server.root / "data.bin").write_bytes(blob)
    url = fault_server.url(mode, times, "data.bin")
    m = mounts(write_refs(tmp_path / "refs.json", {"k": [url, 1000, 150_000]}),
               "-o", "retry_delay=20", "-o", "prefetch=0", *options)
    start = time.monotonic()
    assert m.path("k").read_bytes() == blob[1000:151_000]
    assert time.monotonic() - start < 10
    assert fault_server.requests[f"/{mode}/{times}/data.bin"] == times + 1


def test_persistent_failure_gives_eio_quickly_and_other_files_still_read(fault_server, tmp_path, mounts):
    blob = os.urandom(10_000)
    (fault_server.root / "data.bin").write_bytes(blob)
    m = mounts(write_refs(tmp_path / "refs.json", {
        "broken": [fault_server.url("always503", 0, "data.bin"), 0, 100],
        "missing": [fault_server.url("notfound", 0, "data.bin"), 0, 100],
        "good": [fault_server.url("fail503", 0, "data.bin"), 100, 200],
    }), "-o", "retries=2", "-o", "retry_delay=10")
    start = time.monotonic()
    with pytest.raises(OSError) as error:
        m.path("broken").read_bytes()
    assert error.value.errno == errno.EIO
    assert time.monotonic() - start < 2
    assert fault_server.requests["/always503/0/data.bin"] == 3  # the first attempt and 2 retries
    with pytest.raises(OSError) as error:
        m.path("missing").read_bytes()
    assert error.value.errno == errno.EIO
    assert fault_server.requests["/notfound/0/data.bin"] == 1  # a 404 is not retried
    assert m.path("good").read_bytes() == blob[100:300]
    assert m.process.poll() is None
    log = m.log()
    assert "broken: GET " + fault_server.url("always503", 0, "data.bin") + " bytes=0-99: HTTP 503 (after 3 attempts)" in log
    assert "missing: GET" in log and "HTTP 404 (after 1 attempt)" in log


def test_https_verifies_certificates_unless_told_not_to_and_uses_http2(nginx, tmp_path, mounts):
    blob = os.urandom(100_000)
    (nginx.root / "tls.bin").write_bytes(blob)
    refs = write_refs(tmp_path / "refs.json", {"k": [nginx.tls_url("tls.bin"), 10, 50_000]})
    verified = mounts(refs, "-o", "retries=0")
    with pytest.raises(OSError) as error:
        verified.path("k").read_bytes()
    assert error.value.errno == errno.EIO
    assert "certificate" in verified.log()
    assert nginx.protocols("tls.bin") == []  # refused before any request was sent
    insecure = mounts(refs, "-o", "insecure")
    assert insecure.path("k").read_bytes() == blob[10:50_010]
    assert nginx.protocols("tls.bin") == ["HTTP/2.0"]


def test_a_coalesced_response_cut_short_hands_out_what_arrived_and_retries_the_rest(fault_server, tmp_path, mounts):
    # 40 chunks of one array back to back in one file, so read-ahead merges them into one
    # request; the server cuts the first answer to every range in half.
    blob = os.urandom(40 * 10_000)
    (fault_server.root / "data.bin").write_bytes(blob)
    url = fault_server.url("truncate", 1, "data.bin")
    refs = {"v/.zarray": json.dumps({"shape": [40], "chunks": [1], "dtype": "|u1", "zarr_format": 2,
                                     "compressor": None, "filters": None, "fill_value": 0, "order": "C"})}
    refs.update({f"v/{i}": [url, i * 10_000, 10_000] for i in range(40)})
    m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "retry_delay=20")
    for i in range(40):
        assert m.path(f"v/{i}").read_bytes() == blob[i * 10_000:(i + 1) * 10_000], i
    requests = fault_server.requests[f"/truncate/1/data.bin"]
    assert requests < 40  # coalesced: far fewer requests than chunks, retries included


def test_requests_beyond_max_connections_go_out_in_the_order_they_were_made(nginx, tmp_path, mounts):
    # 40 one-chunk files behind 20 ms of latency, two connections: the first read asks for every
    # chunk ahead, in C order, and a serial reader then finds each one arrived before the next.
    # libcurl's own queue of pending transfers does not keep that order; the engine's does.
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    count = 40
    refs = {".zgroup": json.dumps({"zarr_format": 2}),
            "v/.zarray": json.dumps({"chunks": [1], "compressor": None, "dtype": "|u1", "fill_value": 0,
                                     "filters": None, "order": "C", "shape": [count], "zarr_format": 2})}
    for i in range(count):
        (folder / f"c{i}").write_bytes(bytes([i]))
        refs[f"v/{i}"] = [nginx.url(f"{tmp_path.name}/c{i}", slow=True), 0, 1]
    m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "max_connections=2")
    assert m.path("v/0").read_bytes() == b"\0"
    deadline = time.monotonic() + 10
    pattern = f"/slow/{tmp_path.name}/c"
    while time.monotonic() < deadline:
        logged = [line for line in nginx.access_log.read_text().splitlines() if pattern in line]
        if len(logged) >= count:
            break
        time.sleep(0.05)
    order = [int(line.split(pattern)[1].split(" ")[0]) for line in logged]
    assert sorted(order) == list(range(count)), order
    # Two at a time, each 20 ms: a chunk ends at most a couple of places from where it was asked.
    assert all(abs(position - chunk) <= 2 for position, chunk in enumerate(order)), order
    assert bytes(m.path(f"v/{i}").read_bytes()[0] for i in range(count)) == bytes(range(count))
