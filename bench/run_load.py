"""Load test: 64 concurrent readers x 10,000 random chunk reads each through the mount, against
nginx on loopback (no added latency).

Usage: /usr/bin/python3 bench/run_load.py [--readers 64] [--reads 10000] [--cache 64M]
Run from the repository root after scripts/build; needs nginx-light and libnginx-mod-http-echo.
The object (256 MiB of random bytes in 4096 chunks of 64 KiB) goes to build/bench-data/load/.
Every read is checked against the object's bytes, and the page cache is dropped for the file
after it (posix_fadvise), so every read reaches the daemon; the daemon's block cache is a quarter
of the object, so about three reads in four go to nginx. Writes bench/results/load.md.
"""

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import Nginx  # noqa: E402

DATA = REPO / "build" / "bench-data" / "load"
DAEMON = REPO / "build" / "daemon" / "kerchunkfs"
CHUNK, CHUNKS = 64 * 1024, 4096
THREADS_PER_PROCESS = 8


def read_chunks(args):
    """One process's readers: (latencies in seconds, errors, wrong reads)."""
    mountpoint, seed, readers, reads = args
    source = (DATA / "object.bin").read_bytes()

    def reader(k):
        rng = random.Random(seed * 1000 + k)
        latencies, errors, wrong = [], 0, 0
        for _ in range(reads):
            i = rng.randrange(CHUNKS)
            began = time.perf_counter()
            try:
                fd = os.open(f"{mountpoint}/c/{i}", os.O_RDONLY)
                try:
                    data = os.pread(fd, CHUNK, 0)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
            except OSError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - began)
            wrong += data != source[i * CHUNK:(i + 1) * CHUNK]
        return latencies, errors, wrong

    with ThreadPoolExecutor(readers) as pool:
        results = list(pool.map(reader, range(readers)))
    return [x for r in results for x in r[0]], sum(r[1] for r in results), sum(r[2] for r in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=64)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--cache", default="64M")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    if not (DATA / "object.bin").exists():
        rng = random.Random(0)
        (DATA / "object.bin").write_bytes(b"".join(rng.randbytes(CHUNK) for _ in range(CHUNKS)))
    work = Path(tempfile.mkdtemp(prefix="kerchunkfs-load-"))
    nginx = Nginx(DATA, work)
    refs = work / "refs.json"
    url = nginx.url("object.bin")
    refs.write_text("{" + ", ".join(f'"c/{i}": ["{url}", {i * CHUNK}, {CHUNK}]' for i in range(CHUNKS)) + "}")
    mountpoint = work / "mnt"
    mountpoint.mkdir()
    daemon = subprocess.Popen([str(DAEMON), str(refs), str(mountpoint), "-f", "-o", f"cache_size={args.cache}"])
    try:
        while not os.path.ismount(mountpoint):
            if daemon.poll() is not None:
                raise RuntimeError("kerchunkfs exited")
            time.sleep(0.01)
        processes = max(1, args.readers // THREADS_PER_PROCESS)
        jobs = [(str(mountpoint), p, args.readers // processes, args.reads) for p in range(processes)]
        began = time.perf_counter()
        with multiprocessing.Pool(processes) as pool:
            parts = pool.map(read_chunks, jobs)
        elapsed = time.perf_counter() - began
        peak_kib = int(next(line.split()[1] for line in open(f"/proc/{daemon.pid}/status") if line.startswith("VmHWM")))
        stats = (mountpoint / ".kerchunkfs" / "stats").read_text()
    finally:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=True)
        daemon.wait()
        nginx.stop()
    latencies = sorted(x for part in parts for x in part[0])
    errors, wrong = sum(p[1] for p in parts), sum(p[2] for p in parts)
    total = len(latencies) + errors
    requests = next(int(line.split()[1]) for line in stats.splitlines() if line.startswith("kerchunkfs_http_requests_total"))

    def quantile(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    table = ("| readers x reads | reads/s | MB/s | p50 | p99 | errors | wrong bytes | HTTP requests | daemon peak RSS |\n"
             "|---|---|---|---|---|---|---|---|---|\n"
             f"| {args.readers} x {args.reads:,} | {total / elapsed:,.0f} | {total * CHUNK / elapsed / 1e6:,.0f} | "
             f"{quantile(0.5):.2f} ms | {quantile(0.99):.2f} ms | {errors} | {wrong} | {requests:,} | "
             f"{peak_kib / 1024:.0f} MiB (cache {args.cache}) |")
    text = (f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with `/usr/bin/python3 bench/run_load.py` "
            f"(random 64 KiB chunk reads of a {CHUNK * CHUNKS >> 20} MiB object through the mount, nginx on loopback, "
            f"{total:,} reads in {elapsed:.1f} s; readers, daemon and nginx share the cores).\n\n{table}\n")
    print(text)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "load.md").write_text(text)
    return 1 if errors or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
