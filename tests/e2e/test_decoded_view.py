"""-o decode: arrays shown as stored raw, decoded by the mount. The source of truth is numcodecs
(zarr-python reading the zarr store the references point into, and numcodecs decoding each stored
chunk), and netCDF4 reading the original netCDF4 file."""

import json
import lzma
import os
import re
from pathlib import Path

import netCDF4
import numcodecs
import numpy as np
import pytest
import xarray as xr
import zarr

import readers
from conftest import REPO, scan, write_refs

# One array per codec (and per codec family mode): name → (dtype, compressor, filters, order).
CODECS = {
    "zlib": ("<f4", numcodecs.Zlib(level=5), None, "C"),
    "gzip": ("<i4", numcodecs.GZip(level=5), None, "C"),
    "bz2": ("<f8", numcodecs.BZ2(level=5), None, "C"),
    "lzma": ("<i2", numcodecs.LZMA(), None, "C"),
    "lzma_alone": ("<i2", numcodecs.LZMA(format=lzma.FORMAT_ALONE), None, "C"),
    "zstd": (">i8", numcodecs.Zstd(level=3), None, "C"),
    "lz4": ("<u2", numcodecs.LZ4(), None, "C"),
    "shuffle": ("<f4", numcodecs.Zlib(level=4), [numcodecs.Shuffle(elementsize=4)], "C"),
    "delta": ("<i4", numcodecs.Zlib(), [numcodecs.Delta(dtype="<i4", astype="<i2")], "C"),
    "fixedscaleoffset": ("<f8", numcodecs.Zlib(),
                         [numcodecs.FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="<u2")], "C"),
    "astype": ("<f8", numcodecs.Zlib(), [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")], "C"),
    "quantize": ("<f8", numcodecs.Zlib(), [numcodecs.Quantize(digits=2, dtype="<f8")], "C"),
    "bitround": ("<f4", numcodecs.Zlib(), [numcodecs.BitRound(keepbits=6)], "C"),
    "crc32": ("<i4", numcodecs.CRC32(), None, "C"),
    "adler32": ("<i4", numcodecs.Adler32(), None, "C"),
    "fortran_order": ("<f4", numcodecs.Zlib(), None, "F"),
}
for cname in ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"):
    for shuffle, mode in ((numcodecs.Blosc.NOSHUFFLE, "no"), (numcodecs.Blosc.SHUFFLE, "byte"),
                          (numcodecs.Blosc.BITSHUFFLE, "bit")):
        CODECS[f"blosc_{cname}_{mode}"] = ("<f4", numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle), None, "C")

# The rows of the readers × codecs table (docs/decoded-view.md), each read as one of the arrays above.
TABLE_ROWS = {"zlib": "zlib", "gzip": "gzip", "bz2": "bz2", "lzma": "lzma", "zstd": "zstd", "lz4": "lz4",
              "blosc": "blosc_lz4_byte", "shuffle + zlib": "shuffle", "delta": "delta",
              "fixedscaleoffset": "fixedscaleoffset", "astype": "astype", "quantize": "quantize",
              "bitround": "bitround", "crc32": "crc32"}
READERS = ("zarr-python", "zarrita.js", "GDAL 3.6", "NCZarr 4.9")
SHAPE, CHUNKS = (45, 26), (16, 10)  # edge chunks on both axes


def values_for(dtype):
    rng = np.random.default_rng(7)
    runs = np.repeat(rng.integers(0, 50, size=SHAPE[0] * SHAPE[1] // 5 + 1), 5)[: SHAPE[0] * SHAPE[1]]
    data = runs.reshape(SHAPE)
    if np.dtype(dtype).kind == "f":
        return (data * 1.37 + 0.25).astype(dtype)
    return (data * 3 - 40 if np.dtype(dtype).kind == "i" else data * 3).astype(dtype)


def reference_zarr_store(directory, refs_path, consolidated=False):
    """A reference set for every file of a zarr store: metadata inline, chunks as ranges."""
    refs = {}
    for root, _, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            key = str(path.relative_to(directory))
            refs[key] = path.read_text() if name.startswith(".") else [str(path), 0, path.stat().st_size]
    if not consolidated:
        refs.pop(".zmetadata", None)
    return write_refs(refs_path, {"version": 1, "refs": refs})


@pytest.fixture(scope="module")
def codec_store(tmp_path_factory):
    """A zarr store with one array per codec, written by zarr-python/numcodecs, and its references."""
    work = tmp_path_factory.mktemp("codecs")
    group = zarr.group(zarr.DirectoryStore(str(work / "source.zarr")))
    for index, (name, (dtype, compressor, filters, order)) in enumerate(CODECS.items()):
        array = group.create_dataset(name, shape=SHAPE, chunks=CHUNKS, dtype=dtype, compressor=compressor,
                                     filters=filters, order=order, fill_value=0)
        array[...] = values_for(dtype)
        array.attrs["_ARRAY_DIMENSIONS"] = [f"{name}_y", f"{name}_x"]
    # Never-written chunks: they stay missing, and read as the fill value.
    sparse = group.create_dataset("sparse", shape=SHAPE, chunks=CHUNKS, dtype="<i4", compressor=numcodecs.Zlib(),
                                  fill_value=-1, write_empty_chunks=False)
    sparse[20:30, :] = 5
    sparse.attrs["_ARRAY_DIMENSIONS"] = ["sparse_y", "sparse_x"]
    zarr.consolidate_metadata(group.store)
    return work / "source.zarr", reference_zarr_store(work / "source.zarr", work / "refs.json")


@pytest.fixture(scope="module")
def undecoded_store(tmp_path_factory):
    """Arrays whose codecs kerchunkfs does not decode (apart: GDAL and NCZarr refuse a whole group
    holding them)."""
    work = tmp_path_factory.mktemp("undecoded")
    group = zarr.group(zarr.DirectoryStore(str(work / "source.zarr")))
    packed = group.create_dataset("packbits", shape=(40,), chunks=(16,), dtype=bool, filters=[numcodecs.PackBits()],
                                  compressor=None)
    packed[...] = np.arange(40) % 3 == 0
    packed.attrs["_ARRAY_DIMENSIONS"] = ["bits"]
    words = group.create_dataset("words", shape=(6,), chunks=(4,), dtype=object, object_codec=numcodecs.VLenUTF8())
    words[...] = np.array(["a", "bb", "ccc", "", "e", "ff"], dtype=object)
    words.attrs["_ARRAY_DIMENSIONS"] = ["words"]
    plain = group.create_dataset("zlib", shape=(30,), chunks=(7,), dtype="<i8", compressor=numcodecs.Zlib())
    plain[...] = np.arange(30) ** 2
    plain.attrs["_ARRAY_DIMENSIONS"] = ["n"]
    zarr.consolidate_metadata(group.store)
    return work / "source.zarr", reference_zarr_store(work / "source.zarr", work / "refs.json")


def stored_decoded(source, name, chunk):
    """numcodecs' decoding of one stored chunk: the compressor, then the filters in reverse."""
    meta = json.loads((source / name / ".zarray").read_text())
    data = (source / name / chunk).read_bytes()
    codecs = ([meta["compressor"]] if meta["compressor"] else []) + list(reversed(meta["filters"] or []))
    for config in codecs:
        data = numcodecs.get_codec(config).decode(data)
    return np.ascontiguousarray(numcodecs.compat.ensure_ndarray(data)).tobytes()


def test_every_decoded_chunk_equals_numcodecs_decoding(codec_store, mounts):
    source, refs = codec_store
    m = mounts(refs, "-o", "decode", "-o", f"allow_local={source.parent}")
    for name in CODECS:
        meta = json.loads(m.path(f"{name}/.zarray").read_text())
        assert meta["compressor"] is None and meta["filters"] is None, name
        stored = json.loads((source / name / ".zarray").read_text())
        for field in ("shape", "chunks", "fill_value", "order"):
            assert meta[field] == stored[field], (name, field)
        # Big-endian numbers are shown little-endian (NCZarr misreads big-endian arrays).
        assert meta["dtype"] == stored["dtype"].replace(">", "<"), name
        chunks = sorted(p.name for p in (source / name).iterdir() if not p.name.startswith("."))
        assert chunks == sorted(p.name for p in m.path(name).iterdir() if not p.name.startswith("."))
        for chunk in chunks:
            expected = np.frombuffer(stored_decoded(source, name, chunk), stored["dtype"]).astype(meta["dtype"]).tobytes()
            assert m.path(f"{name}/{chunk}").stat().st_size == len(expected), (name, chunk)
            assert m.path(f"{name}/{chunk}").read_bytes() == expected, (name, chunk)
    # Missing chunks stay missing; the reader fills them.
    assert not m.path("sparse/0.0").exists()
    np.testing.assert_array_equal(zarr.open_array(str(m.path("sparse")), mode="r")[...],
                                  zarr.open_array(str(source / "sparse"), mode="r")[...])


def test_arrays_with_codecs_not_decoded_are_shown_as_stored(undecoded_store, mounts):
    source, refs = undecoded_store
    m = mounts(refs, "-o", "decode", "-o", f"allow_local={source.parent}")
    for name in ("packbits", "words"):
        assert m.path(f"{name}/.zarray").read_text() == (source / name / ".zarray").read_text()
        np.testing.assert_array_equal(zarr.open_array(str(m.path(name)), mode="r")[...],
                                      zarr.open_array(str(source / name), mode="r")[...])
    stats = m.path(".kerchunkfs/stats").read_text()
    assert re.search(r"^kerchunkfs_raw_arrays_total 2$", stats, re.M), stats
    log = m.log()
    assert re.search(r"packbits: shown as stored, not decoded: .*packbits", log), log
    assert re.search(r"words: shown as stored, not decoded: .*dtype", log), log


def test_consolidated_metadata_follows_the_view(undecoded_store, tmp_path, mounts):
    source, _ = undecoded_store
    refs = reference_zarr_store(source, tmp_path / "consolidated.json", consolidated=True)
    m = mounts(refs, "-o", "decode", "-o", f"allow_local={source.parent}")
    metadata = json.loads(m.path(".zmetadata").read_text())["metadata"]
    assert metadata["zlib/.zarray"]["compressor"] is None
    assert metadata["packbits/.zarray"]["filters"] == [{"id": "packbits"}]
    assert m.path(".zmetadata").stat().st_size == len(m.path(".zmetadata").read_bytes())
    got = xr.open_zarr(str(m.path()), consolidated=True, mask_and_scale=False)
    assert got["zlib"].encoding["compressor"] is None
    np.testing.assert_array_equal(got["zlib"].values, np.arange(30) ** 2)
    assert list(got["words"].values) == ["a", "bb", "ccc", "", "e", "ff"]


def outcome(read, errors, name, expected):
    if name in errors:
        return "crashes" if errors[name].startswith("crashed") else "fails"
    got = read[name]
    if got.shape != expected.shape:
        return "wrong"
    equal = np.array_equal(got.astype(expected.dtype) if got.dtype != expected.dtype else got, expected)
    return "yes" if equal else "wrong"


def readme_table():
    text = (REPO / "docs" / "decoded-view.md").read_text()
    block = text.split("<!-- readers-codecs:begin -->")[1].split("<!-- readers-codecs:end -->")[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def test_every_reader_reads_every_codec_decoded_and_the_docs_say_so(codec_store, mounts):
    """zarr-python, zarrita.js, GDAL and NCZarr read each array through the raw mount and through
    -o decode; with -o decode every one reads the right values. The table in docs/decoded-view.md
    is what this test sees."""
    reason = readers.zarrita_unavailable_reason()
    if reason:
        pytest.skip(reason)
    source, refs = codec_store
    raw = mounts(refs, "-o", f"allow_local={source.parent}")
    decoded = mounts(refs, "-o", "decode", "-o", f"allow_local={source.parent}")
    # zarrita.js reads no Fortran-ordered arrays, stored raw or not: a layout, not a codec.
    names = [name for name in CODECS if name != "fortran_order"] + ["sparse"]
    expected = {name: zarr.open_array(str(source / name), mode="r")[...] for name in names}
    seen = {}
    for mode, m in (("raw", raw), ("decode", decoded)):
        root = m.path()
        results = {
            "zarr-python": ({n: zarr.open_array(str(root / n), mode="r")[...] for n in names}, {}),
            "zarrita.js": readers.read_zarrita(root, names),
            "GDAL 3.6": readers.read_gdal(root, names),
            "NCZarr 4.9": readers.read_nczarr(root, names),
        }
        for reader, (read, errors) in results.items():
            for name in names:
                seen[(reader, mode, name)] = outcome(read, errors, name, expected[name])
                if mode == "decode" and seen[(reader, mode, name)] != "yes":
                    print(reader, name, errors.get(name, "wrong values"))
    wrong = [(key, result) for key, result in seen.items() if key[1] == "decode" and result != "yes"]
    assert not wrong, f"readers failing on the decoded view: {wrong}"
    observed = {row: [f"{seen[(r, 'raw', name)]} / {seen[(r, 'decode', name)]}" for r in READERS]
                for row, name in TABLE_ROWS.items()}
    table = "\n".join(f"| {row} | " + " | ".join(cells) + " |" for row, cells in observed.items())
    assert readme_table() == observed, f"the readers × codecs table in docs/decoded-view.md should read:\n{table}"


def make_netcdf(path):
    """The README demo's kind of file: netCDF4 with shuffle + zlib (and one with fletcher32)."""
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", 12)
        nc.createDimension("lat", 19)
        nc.createDimension("lon", 36)
        nc.createVariable("time", "f8", ("time",))[:] = np.arange(12)
        nc.createVariable("lat", "f4", ("lat",))[:] = np.linspace(-90, 90, 19)
        nc.createVariable("lon", "f4", ("lon",))[:] = np.arange(0, 360, 10)
        rng = np.random.default_rng(5)
        air = nc.createVariable("air", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True, complevel=4,
                                chunksizes=(1, 19, 36))
        air.units = "K"
        air[:] = (280 + 5 * rng.standard_normal((12, 19, 36))).astype("f4")
        checked = nc.createVariable("checked", "i2", ("time", "lat", "lon"), zlib=True, shuffle=True,
                                    fletcher32=True, chunksizes=(4, 10, 36))
        checked[:] = rng.integers(-300, 300, size=(12, 19, 36)).astype("i2")
    return path


def test_scanned_netcdf4_reads_in_every_reader_with_decode(tmp_path, mounts):
    reason = readers.zarrita_unavailable_reason()
    if reason:
        pytest.skip(reason)
    nc = make_netcdf(tmp_path / "air.nc")
    scan(nc, "-o", tmp_path / "refs.json")
    m = mounts(tmp_path / "refs.json", "-o", "decode", "-o", f"allow_local={tmp_path}")
    with netCDF4.Dataset(nc) as original:
        original.set_auto_maskandscale(False)
        expected = {name: np.asarray(original.variables[name][...]) for name in ("air", "checked", "lat")}
    for reader in (readers.read_zarrita, readers.read_gdal, readers.read_nczarr):
        values, errors = reader(m.path(), list(expected))
        assert not errors, (reader.__name__, errors)
        for name, truth in expected.items():
            np.testing.assert_array_equal(values[name], truth, err_msg=f"{reader.__name__} {name}")
    got = xr.open_zarr(str(m.path()), consolidated=True)
    xr.testing.assert_identical(got.load(), xr.open_dataset(nc, engine="netcdf4").load())


def test_bad_chunks_are_eio_with_a_log_line_and_the_mount_keeps_serving(tmp_path, mounts):
    good = np.arange(64, dtype="<i4")
    compressed = numcodecs.Zlib().encode(good.tobytes())
    (tmp_path / "good").write_bytes(compressed)
    (tmp_path / "corrupt").write_bytes(compressed[:10] + bytes(b ^ 0x5A for b in compressed[10:]))
    (tmp_path / "truncated").write_bytes(compressed[: len(compressed) // 2])
    (tmp_path / "bomb").write_bytes(numcodecs.Zlib().encode(np.zeros(64 * 1000, "<i4").tobytes()))
    (tmp_path / "short").write_bytes(numcodecs.Zlib().encode(good[:63].tobytes()))
    meta = {"zarr_format": 2, "shape": [64 * 6], "chunks": [64], "dtype": "<i4", "compressor": {"id": "zlib", "level": 1},
            "filters": None, "fill_value": 0, "order": "C"}
    refs = {".zgroup": '{"zarr_format": 2}', "a/.zarray": json.dumps(meta)}
    for index, name in enumerate(("good", "corrupt", "truncated", "bomb", "short")):
        refs[f"a/{index}"] = [str(tmp_path / name), 0, (tmp_path / name).stat().st_size]
    m = mounts(write_refs(tmp_path / "refs.json", {"version": 1, "refs": refs}), "-o", "decode",
               "-o", f"allow_local={tmp_path}")
    for index in (1, 2, 3, 4):
        with pytest.raises(OSError) as failure:
            m.path(f"a/{index}").read_bytes()
        assert failure.value.errno == 5, index
    assert m.path("a/0").read_bytes() == good.tobytes()
    log = m.log()
    assert re.search(r"a/1: zlib: corrupt or truncated stream", log), log
    assert re.search(r"a/2: zlib: corrupt or truncated stream", log), log
    assert re.search(r"a/3: zlib: inflates past the chunk's 256 bytes", log), log
    assert re.search(r"a/4: zlib: decodes to 252 bytes where the chunk has 256", log), log
    stats = m.path(".kerchunkfs/stats").read_text()
    assert re.search(r"^kerchunkfs_decode_failures_total 4$", stats, re.M), stats


def test_scanned_hdf5_codecs_read_in_every_reader_with_decode(tmp_path, mounts):
    """HDF5 files written by h5py with hdf5plugin's filters (and zstd chunks from numcodecs), as
    the scanner references them: every reader reads h5py's values through -o decode."""
    import h5py
    import hdf5plugin

    reason = readers.zarrita_unavailable_reason()
    if reason:
        pytest.skip(reason)
    rng = np.random.default_rng(11)
    data = np.repeat(rng.integers(0, 9, size=300), 10).reshape(60, 50).astype("<f4")
    path = tmp_path / "codecs.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("blosc_lz4_bit", data=data, chunks=(16, 20),
                         **hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.BITSHUFFLE))
        f.create_dataset("blosc_zstd_byte", data=data, chunks=(16, 20),
                         **hdf5plugin.Blosc(cname="zstd", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE))
        f.create_dataset("bzip2", data=data, chunks=(16, 20), **hdf5plugin.BZip2(blocksize=5))
        f.create_dataset("gzip_shuffle_fletcher32", data=data.astype(">i4"), chunks=(16, 20), shuffle=True,
                         compression="gzip", fletcher32=True)
        z = f.create_dataset("zstd", shape=data.shape, dtype="<i8", chunks=(30, 25), compression=32015,
                             compression_opts=(7,), allow_unknown_filter=True)
        for i in range(2):
            for j in range(2):
                block = np.ascontiguousarray((data * 10).astype("<i8")[i * 30:(i + 1) * 30, j * 25:(j + 1) * 25])
                z.id.write_direct_chunk((i * 30, j * 25), numcodecs.Zstd(level=7).encode(block))
    scan(path, "-o", tmp_path / "refs.json", "--inline-threshold", "0")
    m = mounts(tmp_path / "refs.json", "-o", "decode", "-o", f"allow_local={tmp_path}")
    with h5py.File(path) as f:  # no zstd plugin in Debian: those chunks' truth is what was encoded
        expected = {name: f[name][...] for name in f if name != "zstd"}
    expected["zstd"] = (data * 10).astype("<i8")
    assert all(json.loads(m.path(f"{name}/.zarray").read_text())["filters"] is None for name in expected)
    for reader in (readers.read_zarrita, readers.read_gdal, readers.read_nczarr):
        values, errors = reader(m.path(), list(expected))
        assert not errors, (reader.__name__, errors)
        for name, truth in expected.items():
            np.testing.assert_array_equal(values[name], truth, err_msg=f"{reader.__name__} {name}")


@pytest.mark.parametrize("length", [7, 4096, 1000 * 7])  # odd, even, and more than 360 words
def test_fletcher32_checks_hdf5s_own_checksums_and_refuses_a_flipped_byte(tmp_path, mounts, length):
    # HDF5 writes the checksums (h5py, fletcher32=True); the raw chunks are its data and then
    # the checksum, which the fletcher32 codec checks and drops.
    import h5py
    values = np.random.default_rng(length).integers(-128, 127, size=length * 2, dtype="i1")
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f.create_dataset("v", data=values, chunks=(length,), fletcher32=True)
    with h5py.File(tmp_path / "f.h5") as f:
        chunks = [f["v"].id.read_direct_chunk((i * length,))[1] for i in range(2)]
    assert all(len(chunk) == length + 4 for chunk in chunks)
    (tmp_path / "good").write_bytes(chunks[0])
    (tmp_path / "flipped").write_bytes(bytes([chunks[1][0] ^ 1]) + chunks[1][1:])
    meta = {"zarr_format": 2, "shape": [length * 2], "chunks": [length], "dtype": "|i1", "compressor": None,
            "filters": [{"id": "fletcher32"}], "fill_value": 0, "order": "C"}
    refs = {".zgroup": '{"zarr_format": 2}', "v/.zarray": json.dumps(meta),
            "v/0": [str(tmp_path / "good"), 0, length + 4], "v/1": [str(tmp_path / "flipped"), 0, length + 4]}
    m = mounts(write_refs(tmp_path / "refs.json", {"version": 1, "refs": refs}), "-o", "decode",
               "-o", f"allow_local={tmp_path}")
    assert m.path("v/0").read_bytes() == values[:length].tobytes()
    with pytest.raises(OSError) as failure:
        m.path("v/1").read_bytes()
    assert failure.value.errno == 5
    assert "v/1: fletcher32: checksum does not match (corrupt chunk)" in m.log()
