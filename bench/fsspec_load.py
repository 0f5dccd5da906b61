"""Loads a reference set with fsspec's ReferenceFileSystem and reports time and memory.

Usage: fsspec_load.py REFS.json
"""

import resource
import sys
import time

import fsspec


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


before = rss_kib()
start = time.perf_counter()
fs = fsspec.filesystem("reference", fo=sys.argv[1], remote_protocol="file")
seconds = time.perf_counter() - start
print(f"keys {len(fs.references)} seconds {seconds:.3f} rss_kib {rss_kib() - before} "
      f"peak_kib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
