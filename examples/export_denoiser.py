"""examples/export_denoiser.py: a deepinv denoiser, with weights you have, as the file distinv
loads (distinv::libtorch::TorchDenoiser, distinv-pnp --denoiser torch --model FILE.pt).

    python examples/export_denoiser.py drunet --weights drunet_color.pth --out drunet.pt
    python examples/export_denoiser.py dncnn --weights dncnn_sigma2_color.pth --out dncnn.pt

Run it with a Python that has deepinv (pip install deepinv). Nothing is downloaded: --weights
is a local .pth file, as deepinv's `pretrained=` takes it; --random-weights exports the network
untrained (for timings). The network is traced with torch.jit.trace on a (1, C, T, T) tile
(--tile), checked against the untraced network on another batch and shape, and saved as
TorchScript with distinv's metadata (the "distinv.json" extra file):
  receptive_field   halo the tiles need: --receptive-field, default 64 for DRUNet (deepinv's
                    distribute() default) and the depth (20) for DnCNN
  sigma_arg         "tensor": DRUNet takes sigma as a (B,) tensor; "none": DnCNN ignores sigma
  channels          --channels (1 or 3)
  spatial_multiple  8 for DRUNet (three 2x downsamplings; distinv pads tiles up to it), 1 for DnCNN
"""
import argparse
import json
import os
import sys
import warnings

import torch

# torch 2.15 marks TorchScript deprecated in favour of torch.export; LibTorch still loads it
# without a compiler, which an AOTInductor package from torch.export would need at export time
warnings.filterwarnings("ignore", category=FutureWarning, message=r".*torch\.jit")
# DRUNet's shape tests become constants of the trace; main() checks the trace on another shape
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)


def build(name, channels, weights, nc, nb):
    import deepinv as dinv

    pretrained = weights if weights else None
    if name == "drunet":
        net = dinv.models.DRUNet(in_channels=channels, out_channels=channels, nc=nc, nb=nb, pretrained=pretrained,
                                 device="cpu")
        return net, {"receptive_field": 64, "sigma_arg": "tensor", "spatial_multiple": 8}
    net = dinv.models.DnCNN(in_channels=channels, out_channels=channels, pretrained=pretrained, device="cpu")
    return net, {"receptive_field": net.depth, "sigma_arg": "none", "spatial_multiple": 1}


def inputs(meta, batch, channels, h, w, sigma=0.05):
    x = torch.rand(batch, channels, h, w, generator=torch.Generator().manual_seed(h * w + batch))
    return (x, torch.full((batch,), sigma)) if meta["sigma_arg"] == "tensor" else (x,)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=["drunet", "dncnn"])
    p.add_argument("--weights", help="local .pth file of the network's weights (deepinv's pretrained= path)")
    p.add_argument("--random-weights", action="store_true", help="export the untrained network (for timings)")
    p.add_argument("--out", required=True, help="TorchScript file to write (.pt)")
    p.add_argument("--channels", type=int, default=3, choices=[1, 3])
    p.add_argument("--receptive-field", type=int, help="halo the tiles need (default: see above)")
    p.add_argument("--tile", type=int, default=128, help="side of the tile the network is traced on")
    p.add_argument("--nc", default="64,128,256,512", help="DRUNet: channels of its 4 scales (as the weights were trained)")
    p.add_argument("--nb", type=int, default=4, help="DRUNet: residual blocks per scale (as the weights were trained)")
    a = p.parse_args()
    if bool(a.weights) == a.random_weights:
        p.error("give either --weights FILE.pth or --random-weights")
    if a.weights and not os.path.isfile(a.weights):
        p.error(f"--weights: no such file '{a.weights}'")

    torch.manual_seed(0)
    nc = tuple(int(c) for c in a.nc.split(","))
    if len(nc) != 4:
        p.error(f"--nc: expected 4 comma-separated channel counts, got '{a.nc}'")
    net, meta = build(a.model, a.channels, a.weights, nc, a.nb)
    net.eval()
    if a.receptive_field is not None:
        meta["receptive_field"] = a.receptive_field
    m = meta["spatial_multiple"]
    if a.tile % m or a.tile < 32:
        p.error(f"--tile: expected a multiple of {m} of at least 32, got {a.tile}")
    import deepinv

    meta.update(channels=a.channels, source=f"deepinv {deepinv.__version__} {type(net).__name__}",
                weights=os.path.basename(a.weights) if a.weights else "random")
    with torch.no_grad():
        traced = torch.jit.trace(net, inputs(meta, 1, a.channels, a.tile, a.tile), check_trace=False)
        # the trace must not have frozen the example's batch or shape
        check = inputs(meta, 2, a.channels, a.tile + 2 * m * 4, a.tile + m * 4)
        err = (traced(*check) - net(*check)).abs().max().item()
    if err > 1e-4:
        sys.exit(f"export_denoiser: the traced network differs from deepinv's by {err:.2e} on another shape")
    torch.jit.save(traced, a.out, _extra_files={"distinv.json": json.dumps(meta)})
    print(f"export_denoiser: wrote {a.out} ({json.dumps(meta)}; traced == eager within {err:.1e})")


if __name__ == "__main__":
    main()
