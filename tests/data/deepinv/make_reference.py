#!/usr/bin/env python3
"""Reference arrays from deepinv itself, for tests/unit/deepinv_reference.cpp.

Writes small .npy files (float32 unless named *_f64) and versions.json into the folder of this
script. The C++ tests read them with distinv/io/npy.hpp and need neither Python nor torch.

Run it in a virtual environment outside the repository that holds torch and deepinv 0.5.x
from PyPI (CPU is enough), e.g.
    python3 -m venv /tmp/venv-deepinv && /tmp/venv-deepinv/bin/pip install torch deepinv
    /tmp/venv-deepinv/bin/python tests/data/deepinv/make_reference.py
and commit the arrays it writes. The inputs (images, measurements, kernels) are drawn from a
seeded torch generator and saved too, so the tests never regenerate them.

What is written:
  gaussian_<case>.npy  deepinv.physics.blur.gaussian_blur(sigma, angle) in float32 (the public
      default) for every case of GAUSSIAN_CASES; gaussian_<case>_f64.npy the same kernel in
      float64 (deepinv.physics.functional.gaussian_blur, dtype=torch.float64) for GAUSSIAN_F64.
  blur_x.npy (1, 2, 13, 11) image, blur_y.npy (1, 2, 13, 11) measurement for the same-size
      paddings; for each kernel KxL: blur_kernel_KxL.npy (K, L), blur_y_KxL_valid.npy (the
      measurement of valid padding), and for each padding P:
      blur_KxL_P_A.npy = Blur(kernel, padding=P).A(blur_x) and
      blur_KxL_P_At.npy = Blur(kernel, padding=P).A_adjoint(y).
  down_x.npy (1, 1, 19, 17); for each filter F (gaussian, bilinear, bicubic, factor 2):
      down_filter_F.npy (deepinv's filter), and for each padding P: down_y_F_P.npy (a
      measurement), down_F_P_A.npy = Downsampling(img_size=(1, 19, 17), filter=F, factor=2,
      padding=P).A(down_x), down_F_P_At.npy = the same operator's A_adjoint(down_y_F_P).
  versions.json: the versions of deepinv, torch, numpy and Python, and the cases whose adjoint
      came from deepinv's FFT path because its direct path raises (see below).
"""
import json
import platform
from pathlib import Path

import numpy as np
import torch

import deepinv
import deepinv.physics.functional as dF
from deepinv.physics import Blur, Downsampling
from deepinv.physics.blur import gaussian_blur

OUT = Path(__file__).resolve().parent
PADDINGS = ["valid", "circular", "reflect", "replicate", "constant"]
# (file name, sigma, angle in degrees)
GAUSSIAN_CASES = [
    ("iso_1", 1.0, 0.0),
    ("iso_2", 2.0, 0.0),
    ("iso_0p5_rot40", 0.5, 40.0),
    ("aniso_1p5_3", (1.5, 3.0), 0.0),
    ("aniso_3_1", (3.0, 1.0), 0.0),
    ("rot_1p5_3_a30", (1.5, 3.0), 30.0),
    ("rot_0p6_0p3_a30", (0.6, 0.3), 30.0),
    ("rot_1_0p4_am75", (1.0, 0.4), -75.0),
    ("rot_0p7_2p2_am13", (0.7, 2.2), -13.0),
    ("rot_2_0p8_a120", (2.0, 0.8), 120.0),
    ("rot_1p2_2p5_a45", (1.2, 2.5), 45.0),
]
GAUSSIAN_F64 = ["iso_1", "rot_0p6_0p3_a30", "rot_1p5_3_a30"]  # also in float64 (kept few: size)
BLUR_KERNELS = [(3, 3), (5, 3), (4, 6), (2, 2), (3, 4)]
DOWN_FILTERS = ["gaussian", "bilinear", "bicubic"]


def save(name, t):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    np.save(OUT / f"{name}.npy", np.ascontiguousarray(a))


def main():
    assert deepinv.__version__.startswith("0.5"), f"expected deepinv 0.5.x, got {deepinv.__version__}"
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(20260512)

    def rand(*shape):
        return torch.rand(*shape, generator=gen, dtype=torch.float32)

    for name, sigma, angle in GAUSSIAN_CASES:
        save(f"gaussian_{name}", gaussian_blur(sigma=sigma, angle=angle)[0, 0])
        if name in GAUSSIAN_F64:
            s = (sigma, sigma) if isinstance(sigma, float) else sigma
            save(f"gaussian_{name}_f64", dF.gaussian_blur(sigma=s, angle=angle, dtype=torch.float64)[0, 0])

    fallbacks = []
    x = rand(1, 2, 13, 11)
    y = rand(1, 2, 13, 11)
    save("blur_x", x)
    save("blur_y", y)
    for kh, kw in BLUR_KERNELS:
        k = rand(kh, kw) - 0.25  # signed taps: a sign or centring error cannot hide
        tag = f"{kh}x{kw}"
        save(f"blur_kernel_{tag}", k)
        yv = rand(1, 2, 13 - kh + 1, 11 - kw + 1)
        save(f"blur_y_{tag}_valid", yv)
        for p in PADDINGS:
            phys = Blur(filter=k[None, None], padding=p)
            fft = Blur(filter=k[None, None], padding=p, use_fft=True)
            meas = yv if p == "valid" else y
            A = phys.A(x)
            # deepinv's FFT path gives the same numbers; checked here for every case.
            assert torch.allclose(fft.A(x), A, atol=1e-5), (tag, p)
            try:
                At = phys.A_adjoint(meas)
                assert torch.allclose(fft.A_adjoint(meas), At, atol=1e-5), (tag, p)
            except RuntimeError as e:
                # deepinv 0.5's direct conv_transpose2d fails in circular padding when a pad
                # before is 0 (a kernel side of 1 or 2): its fold slice(-(p - i), None) is then
                # the whole axis. The FFT path (conv_transpose2d_fft) is deepinv's answer there.
                At = fft.A_adjoint(meas)
                fallbacks.append({"case": f"blur_{tag}_{p}_At", "direct_path_error": str(e)})
            save(f"blur_{tag}_{p}_A", A)
            save(f"blur_{tag}_{p}_At", At)

    xd = rand(1, 1, 19, 17)
    save("down_x", xd)
    for f in DOWN_FILTERS:
        phys0 = Downsampling(img_size=(1, 19, 17), filter=f, factor=2, padding="circular")
        save(f"down_filter_{f}", phys0.filter[0, 0])
        for p in PADDINGS:
            phys = Downsampling(img_size=(1, 19, 17), filter=f, factor=2, padding=p)
            A = phys.A(xd)
            yd = rand(*A.shape)
            save(f"down_y_{f}_{p}", yd)
            save(f"down_{f}_{p}_A", A)
            save(f"down_{f}_{p}_At", phys.A_adjoint(yd))

    versions = {
        "deepinv": deepinv.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "generator_seed": 20260512,
        "adjoints_from_the_fft_path": fallbacks,
    }
    (OUT / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")


if __name__ == "__main__":
    main()
