"""Reads whole arrays of a zarr directory with GDAL's multidimensional API or netCDF-C's NCZarr,
saving each as OUT/NAME.npy and printing "NAME ok" or "NAME <error>" as it goes (see readers.py).

Usage: read_arrays.py gdal|nczarr ROOT OUT NAME...
"""

import sys
from pathlib import Path

import numpy as np


def read_gdal(root, name):
    from osgeo import gdal
    gdal.UseExceptions()
    dataset = gdal.OpenEx(root, gdal.OF_MULTIDIM_RASTER)
    return dataset.GetRootGroup().OpenMDArray(name).ReadAsArray()


def read_nczarr(root, name):
    import netCDF4
    with netCDF4.Dataset(f"file://{root}#mode=zarr,file") as dataset:
        variable = dataset.variables[name]
        variable.set_auto_maskandscale(False)
        return np.asarray(variable[...])


reader, root, out, *names = sys.argv[1:]
for name in names:
    try:
        values = {"gdal": read_gdal, "nczarr": read_nczarr}[reader](root, name)
        np.save(Path(out) / f"{name}.npy", values)
        result = "ok"
    except Exception as error:  # the readers raise their own error types
        result = " ".join(str(error).split()) or type(error).__name__
    print(name, result, flush=True)
