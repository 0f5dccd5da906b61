"""Demo input: a small netCDF4 file of daily air temperature.

Usage: demo_data.py OUT.nc
"""

import sys

import netCDF4
import numpy as np

nc_path = sys.argv[1]
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

print(f"wrote {nc_path}")
