"""Writes a synthetic version-0 reference set shaped like a large kerchunk aggregate.

Usage: make_refs.py N OUT.json [URL_PREFIX]
N chunk references spread over 8 variables, each a (time, y, x) chunk grid, pointing into
1000 files under URL_PREFIX (default /data/archive; the files need not exist to load or mount)
with realistic offsets and lengths, plus each variable's metadata.
"""

import json
import random
import sys

n = int(sys.argv[1])
prefix = sys.argv[3] if len(sys.argv) > 3 else "/data/archive"
rng = random.Random(0)
variables = [f"var{v}" for v in range(8)]
per_variable = n // len(variables)
ny, nx = 10, 10
nt = per_variable // (ny * nx)
with open(sys.argv[2], "w") as out:
    out.write('{".zgroup": "{\\"zarr_format\\": 2}"')
    for name in variables:
        zarray = {"chunks": [1, 128, 128], "compressor": {"id": "zlib", "level": 4}, "dtype": "<f4",
                  "fill_value": "NaN", "filters": None, "order": "C", "shape": [nt, ny * 128, nx * 128],
                  "zarr_format": 2}
        out.write(f', "{name}/.zarray": {json.dumps(json.dumps(zarray))}')
        out.write(f', "{name}/.zattrs": {json.dumps(json.dumps({"_ARRAY_DIMENSIONS": ["time", "y", "x"]}))}')
        lines = []
        for t in range(nt):
            url = f"{prefix}/file_{t * 1000 // nt:04d}.nc"
            offset = 4096 + (t % 50) * 10_000_000
            for y in range(ny):
                for x in range(nx):
                    length = rng.randint(20_000, 60_000)
                    lines.append(f', "{name}/{t}.{y}.{x}": ["{url}", {offset}, {length}]')
                    offset += length
            if len(lines) > 100_000:
                out.write("".join(lines))
                lines = []
        out.write("".join(lines))
    out.write("}\n")
