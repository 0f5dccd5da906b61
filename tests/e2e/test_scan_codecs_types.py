"""kerchunkfs-scan: filters with numcodecs equivalents are referenced, not decoded; every HDF5
type zarr can describe reads back through the mount and through fsspec as h5py reads it."""

import json

import fsspec
import h5py
import hdf5plugin
import numcodecs
import numpy as np
import numpy.lib.recfunctions
import pytest
import zarr

from conftest import scan


def read_back(refs_path, mount, names, mount_only=()):
    """{name: [through the mount, through fsspec]} for each array name. fsspec 2022.11 raises
    KeyError for never-written chunks (zarr's batched reads do not absorb it): arrays that have
    some are read through the mount only."""
    fs = fsspec.filesystem("reference", fo=str(refs_path))
    return {name: [zarr.open_array(str(mount.path(name)), mode="r")[...]] +
                  ([] if name in mount_only else [zarr.open_array(fs.get_mapper(name), mode="r")[...]])
            for name in names}


def test_codecs_with_numcodecs_ids_are_referenced_and_read_back(tmp_path, mounts):
    rng = np.random.default_rng(3)
    data = np.repeat(rng.integers(0, 9, size=300), 10).reshape(60, 50).astype("<f4")  # runs: every codec compresses
    zstd_data = np.arange(3000, dtype=">i8").reshape(60, 50)
    path = tmp_path / "codecs.h5"
    with h5py.File(path, "w") as f:
        for cname in ("blosclz", "lz4", "lz4hc", "zlib", "zstd"):
            for shuffle, name in ((hdf5plugin.Blosc.NOSHUFFLE, "no"), (hdf5plugin.Blosc.SHUFFLE, "byte"),
                                  (hdf5plugin.Blosc.BITSHUFFLE, "bit")):
                f.create_dataset(f"blosc_{cname}_{name}", data=data, chunks=(16, 20),
                                 **hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=shuffle))
        f.create_dataset("bzip2", data=data, chunks=(16, 20), **hdf5plugin.BZip2(blocksize=5))
        f.create_dataset("checked", data=data, chunks=(16, 20), shuffle=True, compression="gzip", fletcher32=True)
        f.create_dataset("checked_plain", data=data, chunks=(16, 20), fletcher32=True)
        # No zstd plugin ships with Debian: the chunks are written compressed by numcodecs directly,
        # and numcodecs' own decoding of them is the reference.
        z = f.create_dataset("zstd", shape=zstd_data.shape, dtype=zstd_data.dtype, chunks=(30, 25),
                             compression=32015, compression_opts=(7,), allow_unknown_filter=True)
        for i in range(2):
            for j in range(2):
                block = np.ascontiguousarray(zstd_data[i * 30:(i + 1) * 30, j * 25:(j + 1) * 25])
                z.id.write_direct_chunk((i * 30, j * 25), numcodecs.Zstd(level=7).encode(block))
    scan(path, "-o", tmp_path / "refs.json", "--inline-threshold", "0")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    names = [k[:-len("/.zarray")] for k in refs if k.endswith("/.zarray")]
    assert len(names) == 19
    for name in names:
        assert isinstance(refs[f"{name}/0.0"], list), f"{name} was not referenced"
    meta = {name: json.loads(refs[f"{name}/.zarray"]) for name in names}
    assert meta["blosc_zstd_bit"]["filters"] == [{"blocksize": 0, "clevel": 5, "cname": "zstd", "id": "blosc", "shuffle": 2}]
    assert meta["zstd"]["filters"] == [{"id": "zstd", "level": 7}]
    assert meta["checked"]["filters"] == [{"elementsize": 4, "id": "shuffle"}, {"id": "zlib", "level": 4}]
    assert meta["checked_plain"]["filters"] is None
    with h5py.File(path) as f:
        # fletcher32's 4-byte checksum is left out of each reference
        info = f["checked_plain"].id.get_chunk_info(0)
        assert refs["checked_plain/0.0"][1:] == [info.byte_offset, info.size - 4] == [info.byte_offset, 16 * 20 * 4]
        expected = {name: f[name][()] for name in names if name != "zstd"}
    expected["zstd"] = zstd_data
    m = mounts(tmp_path / "refs.json")
    for name, (mounted, via_fsspec) in read_back(tmp_path / "refs.json", m, names).items():
        np.testing.assert_array_equal(mounted, expected[name], err_msg=name)
        np.testing.assert_array_equal(via_fsspec, expected[name], err_msg=name)


def test_chunks_an_optional_filter_gave_up_on_make_the_dataset_decoded_and_inlined(tmp_path, mounts):
    # hdf5-blosc is optional: on incompressible chunks it steps aside and HDF5 stores them raw,
    # marked in the chunk's filter mask. zarr has one codec list per array.
    noise = np.random.default_rng(8).integers(0, 2**32, size=(64, 64), dtype="<u4")
    path = tmp_path / "noise.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("mixed", data=np.concatenate([noise[:32], np.zeros((32, 64), "<u4")]), chunks=(16, 64),
                         **hdf5plugin.Blosc())
        f.create_dataset("large", data=noise, chunks=(16, 64), **hdf5plugin.Blosc())
    out = scan(path, "-o", tmp_path / "refs.json", "--inline-unsupported", "10000", check=False)
    assert out.returncode == 1
    assert "large: not referenced: chunk 0.0 skipped some of its filters (mask 1); the dataset is larger than" in out.stderr
    scan(path, "-o", tmp_path / "refs.json", "--inline-unsupported", "20000", "--skip-unsupported")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert isinstance(refs["mixed/0.0"], str) and json.loads(refs["mixed/.zarray"])["chunks"] == [64, 64]
    m = mounts(tmp_path / "refs.json")
    with h5py.File(path) as f:
        np.testing.assert_array_equal(zarr.open_array(str(m.path("mixed")), mode="r")[...], f["mixed"][()])


RAGGED_TYPES = {"ragged_le": "<i4", "ragged_be": ">f8"}
RAGGED_LENGTHS = (0, 3, 1, 5)


def make_types(path):
    rng = np.random.default_rng(4)
    nested = np.dtype([("id", "<u4"), ("pos", [("x", ">f8"), ("y", ">f8")]), ("tag", "S6"),
                       ("samples", "<i2", (2, 3)), ("ok", "?")])
    with h5py.File(path, "w") as f:
        records = np.zeros(40, dtype=nested)
        records["id"] = np.arange(40)
        records["pos"]["x"] = rng.normal(size=40)
        records["pos"]["y"] = rng.normal(size=40)
        records["tag"] = [b"tag%d" % i for i in range(40)]
        records["samples"] = rng.integers(-100, 100, size=(40, 2, 3))
        records["ok"] = np.arange(40) % 3 == 0
        f.create_dataset("records", data=records, chunks=(16,), compression="gzip")
        f.create_dataset("records_contiguous", data=records)
        # Members with gaps between them: HDF5 packs them on reading, and the result is inlined.
        padded = h5py.h5t.create(h5py.h5t.COMPOUND, 24)
        padded.insert(b"a", 0, h5py.h5t.STD_I32LE)
        padded.insert(b"b", 8, h5py.h5t.IEEE_F64BE)
        padded.insert(b"c", 20, h5py.h5t.STD_U16LE)
        space = h5py.h5s.create_simple((5,))
        ds = h5py.h5d.create(f.id, b"padded", padded, space)
        packed = np.zeros(5, dtype=[("a", "<i4"), ("b", ">f8"), ("c", "<u2")])
        packed["a"], packed["b"], packed["c"] = np.arange(5), np.arange(5) / 3, np.arange(5) * 7
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, packed)
        f.create_dataset("complex64", data=(rng.normal(size=(10, 4)) + 1j * rng.normal(size=(10, 4))).astype("<c8"),
                         chunks=(5, 4))
        f.create_dataset("complex128_be", data=np.arange(6) * (1 - 2j), dtype=">c16")
        f.create_dataset("opaque", data=np.array([b"\x00\x01\x02\x03", b"\xff\xfe\xfd\xfc"], dtype="V4"))
        bits = h5py.h5d.create(f.id, b"bits", h5py.h5t.STD_B16BE, h5py.h5s.create_simple((6,)))
        bits.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([1, 2, 4, 8, 16, 65535], dtype="<u2"),
                   mtype=h5py.h5t.NATIVE_B16)
        array_type = h5py.h5t.array_create(h5py.h5t.IEEE_F32LE, (3, 2))
        cells = h5py.h5d.create(f.id, b"cells", array_type, h5py.h5s.create_simple((7,)))
        cells.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(42, dtype="<f4").reshape(7, 3, 2), mtype=array_type)
        for name, dtype in RAGGED_TYPES.items():
            f.create_dataset(name, data=np.array([np.arange(n, dtype=dtype) * 3 for n in RAGGED_LENGTHS], dtype=object),
                             dtype=h5py.vlen_dtype(np.dtype(dtype)))
        f.create_dataset("filled", shape=(8,), chunks=(4,), dtype=nested,
                         fillvalue=np.array((7, (1.5, -2.0), b"none", np.ones((2, 3)), True), dtype=nested))
        f["filled"][:4] = records[:4]
        f.create_dataset("le_be", data=np.arange(12, dtype=">u8").reshape(3, 4), chunks=(2, 2))


def test_compound_complex_opaque_bitfield_array_and_vlen_types_read_back(tmp_path, mounts):
    path = tmp_path / "types.h5"
    make_types(path)
    out = scan(path, "-o", tmp_path / "refs.json")
    assert "refused" in out.stderr and " 0 refused" in out.stderr, out.stderr
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert isinstance(refs["records/0"], list) and isinstance(refs["records_contiguous/0"], list)
    assert json.loads(refs["complex64/.zarray"])["dtype"] == "<c8"
    assert json.loads(refs["cells/.zarray"])["shape"] == [7, 3, 2]
    m = mounts(tmp_path / "refs.json")
    with h5py.File(path) as f:
        names = list(f)
        got = read_back(tmp_path / "refs.json", m, names, mount_only={"filled"})
        for name in names:
            expected = f[name][()]
            if name == "padded":  # the same values, without the gaps between members
                expected = numpy.lib.recfunctions.repack_fields(expected, recurse=True)
            for source, values in zip(("mount", "fsspec"), got[name]):
                if name in RAGGED_TYPES:
                    # h5py 3.7 reads big-endian sequences byte-swapped: the values written are the truth
                    assert [v.tolist() for v in values] == [list(np.arange(n) * 3) for n in RAGGED_LENGTHS], source
                    assert values[1].dtype == np.dtype(RAGGED_TYPES[name])
                    continue
                assert values.dtype == expected.dtype, (name, source, values.dtype, expected.dtype)
                assert values.tobytes() == expected.tobytes(), (name, source)


@pytest.mark.parametrize("shape,dtype,limit", [((1000, 30), "<f8", 24000), ((10, 7, 9), ">i2", 100),
                                               ((4096,), "<u1", 1000), ((3, 5000), "<f4", 4000)])
def test_split_contiguous_makes_regular_chunks_of_at_most_the_limit(tmp_path, mounts, shape, dtype, limit):
    path = tmp_path / "contiguous.h5"
    data = np.arange(np.prod(shape)).astype(dtype).reshape(shape)
    with h5py.File(path, "w") as f:
        f.create_dataset("first", data=data)
        f.create_dataset("last", data=data[::-1].copy())  # the file ends with its data: the edge chunk is padded
    scan(path, "-o", tmp_path / "refs.json", "--split-contiguous", limit, "--inline-threshold", "0")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    meta = json.loads(refs["first/.zarray"])
    chunk_bytes = np.prod(meta["chunks"]) * data.itemsize
    assert chunk_bytes <= limit and chunk_bytes > limit // 2 or min(meta["chunks"]) == 1
    chunk_keys = [k for k in refs if k.startswith("first/") and not k.startswith("first/.")]
    assert len(chunk_keys) == np.prod([-(-s // c) for s, c in zip(shape, meta["chunks"])]) > 1
    m = mounts(tmp_path / "refs.json")
    with h5py.File(path) as f:
        for name, (mounted, via_fsspec) in read_back(tmp_path / "refs.json", m, ["first", "last"]).items():
            np.testing.assert_array_equal(mounted, f[name][()])
            np.testing.assert_array_equal(via_fsspec, f[name][()])


def test_phony_dimensions_are_named_and_numbered_as_netcdf_c_does(tmp_path, mounts):
    netCDF4 = pytest.importorskip("netCDF4")
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f["square"] = np.zeros((5, 5))
        f["a"] = np.zeros((3, 5))
        g = f.create_group("g")
        g["b"] = np.zeros((5, 7))
        g.create_dataset("growing", shape=(4,), maxshape=(None,), dtype="f4")
        g.create_dataset("fixed", shape=(4,), dtype="f4")
        f.create_group("g/h")["c"] = np.zeros((7,))
        f["z"] = np.zeros((7, 2))
        f["x"] = np.arange(7.0)
        f["x"].make_scale("x")
        f["on_x"] = np.zeros((7,))
        f["on_x"].dims[0].attach_scale(f["x"])
        f["seven"] = np.zeros((7,))
    scan(path, "-o", tmp_path / "refs.json")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]

    def netcdf_dims(group, prefix=""):
        out = {prefix + name: list(v.dimensions) for name, v in group.variables.items()}
        for name, child in group.groups.items():
            out.update(netcdf_dims(child, prefix + name + "/"))
        return out

    with netCDF4.Dataset(path) as nc:
        expected = netcdf_dims(nc)
    assert len(expected) == 10
    got = {name: json.loads(refs[f"{name}/.zattrs"])["_ARRAY_DIMENSIONS"] for name in expected}
    assert got == expected


def test_compounds_with_variable_length_strings_are_inlined_with_fixed_length_members(tmp_path, mounts):
    text = h5py.string_dtype()
    person = np.dtype([("name", text), ("age", "<i2"), ("home", [("city", text), ("zip", ">u4")])])
    people = np.array([("Ada", 36, ("London", 1)), ("", 0, ("", 2)), ("Émilie du Châtelet", 42, ("Paris", 75005))],
                      dtype=person)
    path = tmp_path / "people.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("people", data=people)
        f.create_dataset("big", data=np.repeat(people, 200))
    out = scan(path, "-o", tmp_path / "refs.json", "--inline-unsupported", "10000", "--skip-unsupported")
    assert "big: not referenced: its variable-length string members make" in out.stderr
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    name_bytes = len("Émilie du Châtelet".encode())
    assert json.loads(refs["people/.zarray"])["dtype"] == [["name", f"|S{name_bytes}"], ["age", "<i2"],
                                                           ["home", [["city", "|S6"], ["zip", ">u4"]]]]
    m = mounts(tmp_path / "refs.json")
    with h5py.File(path) as f:
        expected = f["people"][()]
    for source, got in zip(("mount", "fsspec"), read_back(tmp_path / "refs.json", m, ["people"])["people"]):
        assert [n.decode() for n in got["name"]] == [n.decode() for n in expected["name"]], source
        assert [c.decode() for c in got["home"]["city"]] == [c.decode() for c in expected["home"]["city"]], source
        assert got["age"].tolist() == expected["age"].tolist() and got["home"]["zip"].tolist() == [1, 2, 75005]


def test_attributes_of_compound_array_bool_and_non_utf8_types(tmp_path, mounts):
    path = tmp_path / "attrs.h5"
    point = np.dtype([("x", ">i2"), ("y", "<f4"), ("label", "S4")])
    with h5py.File(path, "w") as f:
        f.attrs["point"] = np.array((3, 0.5, b"ab"), dtype=point)
        f.attrs["points"] = np.array([(1, 1.5, b"p"), (2, -2.25, b"q")], dtype=point)
        f.attrs["nested"] = np.array((7, (1, 2)), dtype=[("n", "u1"), ("pair", [("a", "i8"), ("b", "i8")])])
        f.attrs["vector"] = np.array([(np.arange(3),)], dtype=[("v", "<i4", (3,))])
        f.attrs["flag"] = np.bool_(True)
        f.attrs["flags"] = np.array([True, False])
        f.attrs["latin1"] = np.bytes_("café".encode("latin-1"))  # not UTF-8
        f.attrs["float32"] = np.float32(0.1)
    scan(path, "-o", tmp_path / "refs.json")
    m = mounts(tmp_path / "refs.json")
    attrs = zarr.open_group(str(m.path()), mode="r").attrs.asdict()
    with h5py.File(path) as f:
        def as_json(value):
            if isinstance(value, np.ndarray) and value.shape == (1,):  # one value is a scalar, as netCDF shows it
                value = value[0]
            if isinstance(value, np.void) or (isinstance(value, np.ndarray) and value.dtype.names):
                if isinstance(value, np.ndarray) and value.shape:
                    return [as_json(v) for v in value]
                return {name: as_json(value[name]) for name in value.dtype.names}
            if isinstance(value, np.ndarray):
                return [as_json(v) for v in value]
            if isinstance(value, bytes):
                return value.decode("utf-8", errors="replace")
            return value.item() if isinstance(value, np.generic) else value
        for name in ("point", "points", "nested", "vector", "flag", "flags", "latin1"):
            assert attrs[name] == as_json(f.attrs[name]), name
        assert np.float32(attrs["float32"]) == f.attrs["float32"]
    assert attrs["latin1"] == "caf\ufffd"


def test_empty_extents_read_back_empty(tmp_path, mounts):
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("growable", shape=(0,), maxshape=(None,), chunks=(10,), dtype="<f4")
        f.create_dataset("rows", shape=(0, 3), dtype=">i4")
    scan(path, "-o", tmp_path / "refs.json")
    m = mounts(tmp_path / "refs.json")
    with h5py.File(path) as f:
        for name in ("growable", "rows"):
            got = zarr.open_array(str(m.path(name)), mode="r")[...]
            assert got.shape == f[name].shape and got.dtype == f[name].dtype, name
