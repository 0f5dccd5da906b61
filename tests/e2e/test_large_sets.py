"""A reference set large enough to be read by two threads (each half into a builder of its own,
then joined): through the mount, every key must hold the bytes its reference names on disk, and
every directory list the keys the JSON gave it, as when one thread reads the set."""

import json
import os
import random


def test_a_set_read_by_two_threads_serves_every_key_as_written(tmp_path, mounts):
    # Two targets: v0 in the first, v1 to v3 in the second, v4 and v5 in the first again. The
    # second half (from about v3) meets them in the other order: its URLs must be renumbered.
    datas = [os.urandom(1 << 20), os.urandom(1 << 20)]
    targets = [tmp_path / "first.bin", tmp_path / "second.bin"]
    for target, data in zip(targets, datas):
        target.write_bytes(data)
    rng = random.Random(7)
    entries = [(".zgroup", json.dumps('{"zarr_format": 2}'))]
    expected = {".zgroup": b'{"zarr_format": 2}'}
    for v in range(6):
        array = f"g{v % 2}/v{v}"
        entries.append((f"{array}/.zarray", json.dumps('{"chunks": [1], "dtype": "|u1"}')))
        expected[f"{array}/.zarray"] = b'{"chunks": [1], "dtype": "|u1"}'
        data, target = datas[v in (1, 2, 3)], targets[v in (1, 2, 3)]
        for i in range(50_000):
            offset, length = rng.randrange(len(data) - 64), rng.randrange(1, 64)
            entries.append((f"{array}/{i}", json.dumps([str(target), offset, length])))
            expected[f"{array}/{i}"] = data[offset:offset + length]
    # A key given twice, the later value far into the second half: the later one stands.
    entries.insert(1, ("g0/v0/7", json.dumps("early")))
    entries.append(("late/dir/x", json.dumps("late")))  # directories first met at the very end
    expected["late/dir/x"] = b"late"
    text = "{" + ", ".join(f"{json.dumps(key)}: {value}" for key, value in entries) + "}"
    assert len(text) > 20 << 20  # beyond the 16 MiB from which a second thread reads
    refs = tmp_path / "refs.json"
    refs.write_text(text)

    m = mounts(refs)
    assert "read by 2 threads" in m.log(), m.log()
    sample = [".zgroup", "g0/v0/7", "late/dir/x", "g1/v5/49999"] + rng.sample(sorted(expected), 3000)
    for key in sample:
        assert m.path(key).read_bytes() == expected[key], key
    assert sorted(os.listdir(m.path())) == [".zgroup", ".zmetadata", "g0", "g1", "late"]  # and the synthesized one
    for v in range(6):
        listed = os.listdir(m.path(f"g{v % 2}/v{v}"))
        assert len(listed) == 50_001 and set(listed) == {key.split("/")[2] for key in expected
                                                         if key.startswith(f"g{v % 2}/v{v}/")}
