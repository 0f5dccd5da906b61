"""One HTTP engine and one block cache per mount: every scheme's requests are counted in the
statistics, -o max_connections bounds the connections of all schemes together, and reloaded
reference sets share one cache instead of each holding its own."""

import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from conftest import clean_env, sanitized, write_refs
from servers import ConnectionCountingServer


def stats(m):
    """/.kerchunkfs/stats as {metric name (with labels): value}."""
    text = m.path(".kerchunkfs/stats").read_text()
    return {name: float(value) for name, value in re.findall(r"^(kerchunkfs_\S+) (\S+)$", text, re.M)}


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def test_s3_requests_are_counted_in_the_statistics(s3_server, mounts, tmp_path):
    data = np.random.default_rng(5).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    key = f"{tmp_path.name}/blob.bin"
    s3_server.put(key, data)
    refs = write_refs(tmp_path / "refs.json", {f"part/{i}": [f"s3://{s3_server.bucket}/{key}", i * 100_000, 100_000]
                                               for i in range(3)})
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", "-o", "prefetch=0", env=env)
    for i in range(3):
        assert m.path(f"part/{i}").read_bytes() == data[i * 100_000:(i + 1) * 100_000]
    numbers = stats(m)
    # Three chunks, each fetched once: three GETs that brought exactly their bytes.
    assert numbers["kerchunkfs_http_requests_total"] == 3
    assert numbers["kerchunkfs_http_received_bytes_total"] == 300_000
    assert numbers["kerchunkfs_read_bytes_total"] == 300_000


def test_max_connections_bounds_http_s3_and_gs_together(tmp_path, mounts):
    root = tmp_path / "objects"
    root.mkdir()
    rng = np.random.default_rng(6)
    files = {}
    for i in range(36):
        files[f"f{i}.bin"] = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
        (root / f"f{i}.bin").write_bytes(files[f"f{i}.bin"])
    server = ConnectionCountingServer(root, delay_s=0.15)
    try:
        base = f"127.0.0.1:{server.port}"
        schemes = [f"http://{base}/data/", "s3://bucket/", "gs://bucket/"]
        refs = {f"c/{i}": [schemes[i % 3] + f"f{i}.bin", 0, 20_000] for i in range(36)}
        env = clean_env(STORAGE_EMULATOR_HOST=base)
        m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "max_connections=4", "-o", "prefetch=0",
                   "-o", f"s3_endpoint=http://{base}", "-o", "anon", env=env)
        with ThreadPoolExecutor(max_workers=36) as pool:
            read = list(pool.map(lambda i: m.path(f"c/{i}").read_bytes(), range(36)))
        assert read == [files[f"f{i}.bin"] for i in range(36)]
        assert server.requests == 36
        # Concurrent reads of three schemes, yet never more than four connections at the server.
        assert 2 <= server.most_open <= 4, server.most_open
    finally:
        server.stop()


def test_reloaded_generations_share_one_cache(nginx, tmp_path, mounts):
    chunk, count = 512 * 1024, 48  # 24 MiB of data, more than the 16 MiB cache
    data = np.random.default_rng(7).integers(0, 256, chunk * count, dtype=np.uint8).tobytes()
    (nginx.root / "generations.bin").write_bytes(data)
    refs = write_refs(tmp_path / "refs.json", {f"c/{i}": [nginx.url("generations.bin"), i * chunk, chunk]
                                               for i in range(count)})
    m = mounts(refs, "-o", "cache_size=16M")
    held = []  # an open file in every generation keeps that generation alive

    def read_everything():
        held.append(open(m.path("c/0"), "rb"))
        for i in range(count):
            assert m.path(f"c/{i}").read_bytes() == data[i * chunk:(i + 1) * chunk]

    try:
        read_everything()
        first_rss = rss_bytes(m.process.pid)
        for _ in range(4):
            before = stats(m)["kerchunkfs_reloads_total"]
            m.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while stats(m)["kerchunkfs_reloads_total"] == before:
                assert time.monotonic() < deadline, m.log()
                time.sleep(0.02)
            read_everything()
        numbers = stats(m)
        assert numbers["kerchunkfs_generations"] == 5  # all five are held ...
        assert numbers["kerchunkfs_cache_bytes"] <= numbers["kerchunkfs_cache_capacity_bytes"] == 16 << 20
        # ... yet memory grew by less than one cache size (a cache per generation would add 64 MiB).
        # Sanitizer builds keep freed memory in quarantine, so only the release build is held to it.
        if not sanitized():
            assert rss_bytes(m.process.pid) - first_rss < 16 << 20
    finally:
        for f in held:
            f.close()
