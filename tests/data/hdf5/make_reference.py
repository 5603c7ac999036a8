#!/usr/bin/env python3
"""Reference HDF5 files for tests/suites/io_hdf5.cpp, written and checked with h5py.

  python3 make_reference.py          writes h5py_written.h5, bad.h5 and lying.h5 here, and the
                                     arrays they hold as .npy files (what the tests compare with)
  python3 make_reference.py --check  reads distinv_f32.h5 and distinv_f64.h5 (written by distinv:
                                     the test "hdf5: files of h5py ..." writes them first when the
                                     environment variable DISTINV_HDF5_REFERENCE_OUT names this
                                     folder) and checks their values against the .npy files and
                                     their attributes

Needs h5py and numpy (python3 -m venv /work/venv-h5 && /work/venv-h5/bin/pip install h5py numpy).
The tests read the committed files and never run Python.
"""
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def arrays():
    """The arrays of the reference files: seeded, values of both signs, and exact in float32."""
    rng = np.random.default_rng(26)
    f32 = (rng.integers(-4096, 4096, size=(2, 3, 7, 5)) / 1024.0).astype("<f4")   # (B, C, H, W)
    f64 = rng.standard_normal(size=(1, 2, 5, 3, 4)).astype("<f8")                 # (B, C, D, H, W)
    big = rng.standard_normal(size=(1, 3, 11, 13)).astype(">f8")                  # big-endian in the file
    return {"f32": f32, "f64": f64, "big": big}


def write():
    a = arrays()
    for key, value in a.items():
        np.save(os.path.join(HERE, key + ".npy"), value.astype(value.dtype.newbyteorder("<")))
    with h5py.File(os.path.join(HERE, "h5py_written.h5"), "w", track_order=False) as f:
        f.create_dataset("images/f32", data=a["f32"])                               # contiguous
        f.create_dataset("volumes/f64", data=a["f64"], chunks=(1, 1, 2, 3, 4))      # chunked
        f.create_dataset("gzip", data=a["big"], chunks=(1, 1, 4, 13), compression="gzip")
        f.create_dataset("big_endian", data=a["big"])
    with h5py.File(os.path.join(HERE, "bad.h5"), "w") as f:
        f.create_dataset("ints", data=np.arange(2 * 3 * 7 * 5, dtype="<i4").reshape(2, 3, 7, 5))
        f.create_dataset("rank3", data=a["f32"][0])
        f.create_dataset("lzf", data=a["f32"], chunks=(1, 1, 7, 5), compression="lzf")  # h5py's own filter
        partial = f.create_dataset("partial", shape=(2, 3, 7, 5), dtype="<f4", chunks=(1, 1, 7, 5))
        partial[0, 0] = a["f32"][0, 0]   # one chunk of six written
        nan = a["f32"].copy()
        nan[1, 2, 4, 3] = np.nan
        nan[1, 2, 6, 0] = np.inf
        f.create_dataset("nan", data=nan)
        f.create_group("group")
    # a contiguous dataset whose dataspace claims 1000 times the rows its data holds
    lying = os.path.join(HERE, "lying.h5")
    with h5py.File(lying, "w") as f:
        f.create_dataset("data", data=a["f32"])
    raw = bytearray(open(lying, "rb").read())
    dims = np.array([2, 3, 7, 5], dtype="<u8").tobytes()
    at = raw.find(dims)
    assert at > 0
    while at >= 0:  # the dimensions and the maximum dimensions
        raw[at + 16:at + 24] = np.array([7000], dtype="<u8").tobytes()
        at = raw.find(dims, at + 1)
    open(lying, "wb").write(bytes(raw))


def check():
    a = arrays()
    for key, name, dataset in (("f32", "distinv_f32.h5", "images/f32"), ("f64", "distinv_f64.h5", "volumes/f64")):
        with h5py.File(os.path.join(HERE, name), "r") as f:
            d = f[dataset]
            assert d.dtype == a[key].dtype.newbyteorder("<"), (dataset, d.dtype)
            assert np.array_equal(d[()], a[key]), dataset
            axes = "B,C,H,W" if d.ndim == 4 else "B,C,D,H,W"
            assert d.attrs["axes"].decode() == axes, d.attrs["axes"]
            assert d.attrs["distinv_version"].decode(), "no version"
            assert int(d.attrs["iteration"]) == 26 if key == "f32" else "iteration" not in d.attrs
    print("distinv_f32.h5, distinv_f64.h5: h5py reads the same values and attributes")


if __name__ == "__main__":
    check() if "--check" in sys.argv else write()
