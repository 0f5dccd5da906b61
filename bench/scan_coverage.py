"""Coverage of kerchunkfs-scan over real-world files: datasets referenced, inlined, refused (by
reason) and skipped, over the HDF5 files Debian ships in python-tables-data (PyTables' test
files), python3-h5py (h5py's test data) and hdf-compass-doc (HDF Compass's examples).

Usage: /usr/bin/python3 bench/scan_coverage.py   (after scripts/build; writes bench/results/scan_coverage.md)
"""

import collections
import glob
import re
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCAN = REPO / "build" / "scanner" / "kerchunkfs-scan"
PATTERNS = ["/usr/share/python-tables/**/*.h5", "/usr/lib/python3/dist-packages/h5py/*/tests/data_files/*.h5",
            "/usr/share/doc/hdf-compass/examples/hdf5/*.h5", "/usr/share/doc/hdf-compass/examples/bag/*.bag"]
CORPUS = sorted({p for pattern in PATTERNS for p in glob.glob(pattern, recursive=True)})

totals = collections.Counter()
reasons = collections.Counter()
not_hdf5 = 0
with tempfile.TemporaryDirectory() as out:
    for index, path in enumerate(CORPUS):
        result = subprocess.run([str(SCAN), str(path), "-o", f"{out}/{index}.json", "--skip-unsupported"],
                                capture_output=True, text=True)
        for line in result.stderr.splitlines():
            if m := re.search(r": (\d+) datasets referenced \(\d+ chunk references\), (\d+) inlined, (\d+) refused, (\d+) skipped", line):
                for name, value in zip(("referenced", "inlined", "refused", "skipped"), m.groups()):
                    totals[name] += int(value)
            elif m := re.search(r": not referenced: (.*)$", line):
                reasons[re.sub(r"\d+ bytes", "N bytes", m.group(1))] += 1
            elif "not an HDF5 file" in line:
                not_hdf5 += 1

lines = [f"{len(CORPUS)} files ({not_hdf5} of them deliberately not valid HDF5).", "",
         "| outcome | datasets |", "|---|---|"]
lines += [f"| {name} | {totals[name]} |" for name in ("referenced", "inlined", "refused", "skipped")]
lines += ["", "| refused because | datasets |", "|---|---|"]
lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
table = "\n".join(lines)
print(table)
(REPO / "bench" / "results" / "scan_coverage.md").write_text(
    f"Measured {time.strftime('%Y-%m-%d')} with `/usr/bin/python3 bench/scan_coverage.py` over "
    f"the HDF5 files of python-tables-data, python3-h5py and hdf-compass-doc.\n\n{table}\n")
