"""Reads the demo dataset through the mount with xarray and checks it against the original file."""

import sys

import xarray as xr

mountpoint, original = sys.argv[1], sys.argv[2]
ds = xr.open_zarr(mountpoint, consolidated=False)
print(ds)
air = ds.air
print("\nair at 0E on 2024-07-01, every 15 degrees of latitude:")
for lat in range(90, -91, -15):
    print(f"  {lat:+4d}  {float(air.sel(time='2024-07-01', lat=lat, lon=0.0)):8.2f} K")
mean = float(air.sel(lat=slice(30, -30)).mean())
print(f"tropical mean over the year: {mean:.3f} K")
xr.testing.assert_equal(ds, xr.open_dataset(original, engine="netcdf4"))
print("every value read through the mount equals the netCDF4 library's reading of the file")
