"""Reference sets for HDF5/netCDF4 files, built from h5py's chunk-location API.

This is the tests' independent oracle: it shares no code with kerchunkfs. It writes zarr v2
metadata and one [url, offset, length] reference per stored chunk, in the layout kerchunk uses.
Only what the tests need: chunked or contiguous datasets, gzip and shuffle filters, nested
groups, simple attributes. The demo uses it too, until kerchunkfs-scan exists.
"""

import base64
import json
import math

import h5py
import numpy as np

# HDF5 bookkeeping attributes that are not user metadata.
HIDDEN_ATTRIBUTES = {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid",
                     "_Netcdf4Coordinates", "_NCProperties", "_FillValue"}


def _json_value(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return _json_value(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _attributes(obj):
    return {k: _json_value(v) for k, v in obj.attrs.items() if k not in HIDDEN_ATTRIBUTES}


def _codecs(dset):
    filters = []
    if dset.shuffle:
        filters.append({"id": "shuffle", "elementsize": dset.dtype.itemsize})
    compressor = None
    if dset.compression == "gzip":
        compressor = {"id": "zlib", "level": dset.compression_opts}
    elif dset.compression is not None:
        raise ValueError(f"{dset.name}: filter {dset.compression} not supported by this test helper")
    if dset.fletcher32 or dset.scaleoffset:
        raise ValueError(f"{dset.name}: filters not supported by this test helper")
    return filters or None, compressor


def chunk_references(dset):
    """{chunk key: (offset, length)} for every stored chunk of a dataset."""
    if dset.chunks is None:
        offset = dset.id.get_offset()
        if offset is None:
            return {}
        return {".".join("0" * len(dset.shape)) or "0": (offset, dset.id.get_storage_size())}
    refs = {}
    for i in range(dset.id.get_num_chunks()):
        info = dset.id.get_chunk_info(i)
        assert info.filter_mask == 0, f"{dset.name}: chunk {i} skipped a filter"
        key = ".".join(str(o // c) for o, c in zip(info.chunk_offset, dset.chunks))
        refs[key] = (info.byte_offset, info.size)
    return refs


def dataset_metadata(dset, dimensions=None):
    filters, compressor = _codecs(dset)
    chunks = dset.chunks or dset.shape
    zarray = {
        "zarr_format": 2,
        "shape": list(dset.shape),
        "chunks": list(chunks) if chunks else [],
        "dtype": dset.dtype.str,
        "compressor": compressor,
        "filters": filters,
        "fill_value": _json_value(dset.fillvalue),
        "order": "C",
    }
    zattrs = _attributes(dset)
    if dimensions is not None:
        zattrs["_ARRAY_DIMENSIONS"] = list(dimensions)
    return zarray, zattrs


def build(path, url=None, dimensions=None, inline_threshold=0):
    """A version-0 reference dict for the HDF5 file at `path`.

    `url` is written into references (default: `path`). `dimensions` maps dataset paths to
    dimension names for xarray. Chunks smaller than `inline_threshold` bytes are inlined as
    base64, as kerchunk does.
    """
    url = url or str(path)
    dimensions = dimensions or {}
    refs = {".zgroup": json.dumps({"zarr_format": 2})}
    with h5py.File(path, "r") as f:
        refs[".zattrs"] = json.dumps(_attributes(f))
        raw = open(path, "rb").read() if inline_threshold else b""

        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                refs[f"{name}/.zgroup"] = json.dumps({"zarr_format": 2})
                refs[f"{name}/.zattrs"] = json.dumps(_attributes(obj))
                return
            zarray, zattrs = dataset_metadata(obj, dimensions.get(name))
            refs[f"{name}/.zarray"] = json.dumps(zarray)
            refs[f"{name}/.zattrs"] = json.dumps(zattrs)
            for key, (offset, length) in chunk_references(obj).items():
                if length < inline_threshold:
                    data = raw[offset:offset + length]
                    refs[f"{name}/{key}"] = "base64:" + base64.b64encode(data).decode()
                else:
                    refs[f"{name}/{key}"] = [url, offset, length]

        f.visititems(visit)
    return refs


def netcdf_dimensions(path):
    """{variable path: dimension names}, as the netCDF4 library reports them."""
    import netCDF4

    out = {}

    def walk(group, prefix):
        for name, var in group.variables.items():
            out[prefix + name] = var.dimensions
        for name, sub in group.groups.items():
            walk(sub, prefix + name + "/")

    with netCDF4.Dataset(path) as nc:
        walk(nc, "")
    return out


def build_netcdf(path, url=None, inline_threshold=0):
    """References for a netCDF4 file: only its variables (not bare dimension scales), with
    _ARRAY_DIMENSIONS so that xarray names the dimensions."""
    dims = netcdf_dimensions(path)
    refs = build(path, url=url, dimensions=dims, inline_threshold=inline_threshold)
    variables = set(dims)
    return {k: v for k, v in refs.items()
            if "/" not in k or k.rsplit("/", 1)[0] in variables or k.rsplit("/", 1)[0] + "/.zgroup" in refs}
