"""Demo input: a small netCDF4 file and a reference set for it.

Usage: demo_data.py OUT.nc OUT.json
The reference set is built with h5py's chunk-location API (tests/e2e/h5refs.py) until
kerchunkfs-scan can write it.
"""

import json
import sys
from pathlib import Path

import netCDF4
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import h5refs  # noqa: E402

nc_path, refs_path = sys.argv[1], sys.argv[2]
with netCDF4.Dataset(nc_path, "w") as nc:
    nc.title = "kerchunkfs demo: daily air temperature"
    nc.createDimension("time", 365)
    nc.createDimension("lat", 73)
    nc.createDimension("lon", 144)
    time = nc.createVariable("time", "f8", ("time",))
    time.units = "days since 2024-01-01"
    time[:] = np.arange(365)
    lat = nc.createVariable("lat", "f4", ("lat",))
    lat.units = "degrees_north"
    lat[:] = np.linspace(90, -90, 73)
    lon = nc.createVariable("lon", "f4", ("lon",))
    lon.units = "degrees_east"
    lon[:] = np.arange(0, 360, 2.5)
    air = nc.createVariable("air", "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(1, 73, 144))
    air.units = "K"
    air.long_name = "air temperature at 2 m"
    days = np.arange(365)[:, None, None]
    latitude = np.linspace(90, -90, 73)[None, :, None]
    longitude = np.arange(0, 360, 2.5)[None, None, :]
    air[:] = (273.15 + 30 * np.cos(np.radians(latitude)) - 12 * np.cos(2 * np.pi * (days + 10) / 365)
              * np.sin(np.radians(latitude)) + 2 * np.sin(np.radians(longitude * 3))).astype("f4")

Path(refs_path).write_text(json.dumps(h5refs.build_netcdf(nc_path)))
print(f"wrote {nc_path} and its reference set {refs_path}")
