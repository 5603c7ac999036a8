"""tests/torch/make_models.py: the learned-denoiser tests' fixture (CTest FIXTURES_SETUP).

Builds small convolutional denoisers with fixed seeded weights, saves them as TorchScript files
with distinv's metadata (the "distinv.json" extra file), and writes inputs and PyTorch's outputs
as .npy files, which the C++ tests compare TorchDenoiser against.

    python make_models.py OUTDIR

Models (receptive field 3: three 3x3 convolutions):
  sigma_tensor.pt   traced, model(x, sigma) with sigma a (B,) tensor (deepinv's convention)
  sigma_float.pt    scripted, model(x, sigma: float)
  no_sigma.pt       traced, model(x)
  multiple4.pt      traced, needs H and W multiples of 4 (two 2x2 poolings); spatial_multiple 4
  no_metadata.pt    as sigma_tensor.pt, without distinv.json
  bad_shape.pt      returns its input without its last row
Data: small.npy (2, 3, 20, 18) and large.npy (1, 3, 64, 56) inputs; <model>_<input>.npy outputs
at sigma = SIGMA (multiple4 padded to multiples of 4 with replicate, then cropped).
"""
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SIGMA = 0.1
# torch 2.15 marks TorchScript (trace, script, save) deprecated in favour of torch.export; it
# still is what LibTorch loads without a compiler (see include/distinv/torch/denoiser.hpp)
warnings.filterwarnings("ignore", category=FutureWarning, message=r".*torch\.jit")


class SmallDenoiser(nn.Module):
    """x - f([x, sigma map]): three 3x3 convolutions, small weights (close to the identity)."""

    def __init__(self, channels=3, hidden=8, with_sigma=True):
        super().__init__()
        self.with_sigma = with_sigma
        self.c1 = nn.Conv2d(channels + (1 if with_sigma else 0), hidden, 3, padding=1)
        self.c2 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.c3 = nn.Conv2d(hidden, channels, 3, padding=1)
        with torch.no_grad():
            for c in (self.c1, self.c2, self.c3):
                c.weight.mul_(0.5)

    def body(self, x, sigma_map):
        h = torch.cat([x, sigma_map], 1) if self.with_sigma else x
        return x - self.c3(F.relu(self.c2(F.relu(self.c1(h)))))


class SigmaTensor(SmallDenoiser):
    def forward(self, x, sigma):
        return self.body(x, sigma.view(-1, 1, 1, 1) * torch.ones_like(x[:, :1]))


class SigmaFloat(SmallDenoiser):
    def forward(self, x, sigma: float):
        return self.body(x, torch.full_like(x[:, :1], sigma))


class NoSigma(SmallDenoiser):
    def __init__(self):
        super().__init__(with_sigma=False)

    def forward(self, x):
        return self.body(x, x)


class Multiple4(nn.Module):
    """x + upsample(conv(pool(pool(x)))): defined only for H, W multiples of 4."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(4, 3, 3, padding=1)

    def forward(self, x, sigma):
        h = torch.cat([x, sigma.view(-1, 1, 1, 1) * torch.ones_like(x[:, :1])], 1)
        return x + 0.1 * F.interpolate(self.c(F.avg_pool2d(F.avg_pool2d(h, 2), 2)), scale_factor=4.0)


class BadShape(nn.Module):
    def forward(self, x, sigma):
        return x[:, :, :-1, :] * (1 + sigma.view(-1, 1, 1, 1))


def save(module, path, meta):
    extra = {"distinv.json": json.dumps(meta)} if meta is not None else {}
    torch.jit.save(module, path, _extra_files=extra)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    inputs = {"small": torch.rand(2, 3, 20, 18), "large": torch.rand(1, 3, 64, 56)}
    for name, x in inputs.items():
        np.save(os.path.join(out, name + ".npy"), x.numpy())
    sig = lambda x: torch.full((x.shape[0],), SIGMA)
    meta = {"receptive_field": 3, "sigma_arg": "tensor", "channels": 3, "source": "tests/torch/make_models.py"}

    st = SigmaTensor().eval()
    sf = SigmaFloat().eval()
    sf.load_state_dict(st.state_dict())  # the same network, sigma as a float
    ns = NoSigma().eval()
    m4 = Multiple4().eval()
    example = inputs["small"]
    with torch.no_grad():
        models = {
            "sigma_tensor": (torch.jit.trace(st, (example, sig(example))), meta, lambda m, x: m(x, sig(x))),
            "sigma_float": (torch.jit.script(sf), dict(meta, sigma_arg="float"), lambda m, x: m(x, SIGMA)),
            "no_sigma": (torch.jit.trace(ns, (example,)), dict(meta, sigma_arg="none"), lambda m, x: m(x)),
            "multiple4": (torch.jit.trace(m4, (example[:, :, :16, :16], sig(example))),
                          dict(meta, receptive_field=8, spatial_multiple=4), None),
        }
        for name, (module, m, run) in models.items():
            save(module, os.path.join(out, name + ".pt"), m)
            for iname, x in inputs.items():
                if name == "multiple4":
                    h, w = x.shape[2:]
                    xp = F.pad(x, (0, -w % 4, 0, -h % 4), mode="replicate")
                    y = module(xp, sig(x))[:, :, :h, :w]
                else:
                    y = run(module, x)
                np.save(os.path.join(out, f"{name}_{iname}.npy"), y.contiguous().numpy())
        save(models["sigma_tensor"][0], os.path.join(out, "no_metadata.pt"), None)
        save(torch.jit.trace(BadShape(), (example, sig(example))), os.path.join(out, "bad_shape.pt"), meta)
    print(f"make_models: wrote the test models and data into {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main(sys.argv[1])
