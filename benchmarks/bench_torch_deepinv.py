"""benchmarks/bench_torch_deepinv.py: deepinv's side of bench_torch — the same network (a DRUNet
from one weights file) run by deepinv 0.5 with deepinv.distributed.distribute() on the same CPU,
one thread per rank. Run from a virtual environment with deepinv (pip install deepinv), outside
the repository; the exact commands are in benchmarks/README.md.

    python bench_torch_deepinv.py --make-weights W.pth [--nc 16,32,64,128 --nb 2]   # seeded weights
    python bench_torch_deepinv.py --weights W.pth                                   # 1 rank
    python -m torch.distributed.run --nproc_per_node=2 bench_torch_deepinv.py --weights W.pth

Cases (as bench_torch): tile_batch/B — the network on a batch of B tiles of (patch + 2 overlap)²
(1-rank run only); denoise — distribute(denoiser, ctx, patch_size, overlap, max_batch_size) on
a 1024² RGB image; pnp — one PnP-PGD iteration (deepinv's distributed demo: 3 circular Gaussian
blurs, distributed L2 gradient, step, prox = the tiled denoiser). Seconds per call: median of
--repeat calls after one warm-up, each call the max over the ranks; "cpu_seconds": CPU seconds
per call of the ranks' own threads, summed over the ranks (as bench_torch's cpu_s).
"""
import argparse
import json
import os
import statistics
import time
import warnings

import torch
import torch.distributed as dist


def drunet(nc, nb, weights):
    import deepinv as dinv

    return dinv.models.DRUNet(in_channels=3, out_channels=3, nc=nc, nb=nb, pretrained=weights, device="cpu").eval()


def timed(ctx, fn, repeat):
    fn()  # warm-up
    times, cpu_total = [], 0.0
    for _ in range(repeat):
        if ctx.use_dist:
            dist.barrier()
        t0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpu_total += time.thread_time() - c0
        dt = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
        if ctx.use_dist:
            dist.all_reduce(dt, op=dist.ReduceOp.MAX)
        times.append(dt.item())
    c = torch.tensor([cpu_total / repeat], dtype=torch.float64)
    if ctx.use_dist:
        dist.all_reduce(c, op=dist.ReduceOp.SUM)
    return statistics.median(times), c.item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", help="DRUNet weights (.pth) to benchmark")
    p.add_argument("--make-weights", help="write seeded random DRUNet weights to this .pth and exit")
    p.add_argument("--nc", default="16,32,64,128")
    p.add_argument("--nb", type=int, default=2)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--patch-size", type=int, default=256)
    p.add_argument("--overlap", type=int, default=32)
    p.add_argument("--max-batch-size", type=int, default=4)
    p.add_argument("--sigma", type=float, default=0.05)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    nc = tuple(int(c) for c in a.nc.split(","))
    torch.set_num_threads(1)  # one thread per rank
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # deepinv.physics.blur.gaussian_blur
    if a.make_weights:
        torch.manual_seed(0)
        torch.save(drunet(nc, a.nb, None).state_dict(), a.make_weights)
        print(f"bench_torch_deepinv: wrote {a.make_weights} (DRUNet nc={nc} nb={a.nb})")
        return

    import deepinv as dinv
    from deepinv.distributed import DistributedContext, distribute
    from deepinv.optim.data_fidelity import L2
    from deepinv.optim.prior import PnP
    from deepinv.physics import Blur, GaussianNoise, stack
    from deepinv.physics.blur import gaussian_blur  # as deepinv's distributed PnP demo

    results, cpu = {}, {}
    with DistributedContext(seed=42, device_mode="cpu") as ctx:
        denoiser = drunet(nc, a.nb, a.weights)
        tile = a.patch_size + 2 * a.overlap
        with torch.no_grad():
            if ctx.world_size == 1:
                for b in (1, a.max_batch_size):
                    t = torch.rand(b, 3, tile, tile, generator=torch.Generator().manual_seed(b))
                    s = torch.full((b,), a.sigma)
                    results[f"tile_batch/{b}"], cpu[f"tile_batch/{b}"] = timed(ctx, lambda: denoiser(t, s), a.repeat)
            g = torch.Generator().manual_seed(1)
            x = torch.rand(1, 3, a.size, a.size, generator=g)
            dd = distribute(denoiser, ctx, patch_size=a.patch_size, overlap=a.overlap, max_batch_size=a.max_batch_size,
                            tiling_dims=(-2, -1))
            results["denoise"], cpu["denoise"] = timed(ctx, lambda: dd(x, a.sigma), a.repeat)

            kernels = [gaussian_blur(sigma=1.0), gaussian_blur(sigma=2.0), gaussian_blur(sigma=(1.5, 3.0), angle=30)]
            ops = [Blur(filter=k, padding="circular", device="cpu",
                        noise_model=GaussianNoise(sigma=0.03, rng=torch.Generator().manual_seed(42 + i)))
                   for i, k in enumerate(kernels)]
            physics = stack(*ops)
            y = physics(x)
            dphys = distribute(physics, ctx)
            dfid = distribute(L2(), ctx)
            prior = PnP(denoiser=dd)
            state = {"x": physics.A_adjoint(y) / len(ops)}

            def iteration():
                grad = dfid.grad(state["x"], y, dphys)
                state["x"] = prior.prox(state["x"] - 0.5 * grad, sigma_denoiser=a.sigma)

            results["pnp"], cpu["pnp"] = timed(ctx, iteration, a.repeat)
        if ctx.rank == 0:
            print(json.dumps({"deepinv": dinv.__version__, "torch": torch.__version__, "ranks": ctx.world_size,
                              "threads_per_rank": torch.get_num_threads(), "network": f"DRUNet nc={list(nc)} nb={a.nb}",
                              "size": a.size, "patch_size": a.patch_size, "overlap": a.overlap,
                              "max_batch_size": a.max_batch_size, "seconds": results, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
