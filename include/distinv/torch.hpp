#pragma once
// distinv/torch.hpp: the learned denoisers (target distinv::torch, LibTorch): TorchDenoiser<T>
// with its model metadata and the rank thread sizing. Opt-in like distinv/mpi.hpp and
// distinv/cuda.hpp: distinv/distinv.hpp does not include it. LibTorch's headers define a
// glog-style CHECK macro (abort on failure): include this before a test framework's headers
// (doctest, Catch2) and #undef CHECK in between, or that framework's CHECK is lost.
#include "distinv/torch/denoiser.hpp"
#include "distinv/torch/metadata.hpp"
#include "distinv/torch/threads.hpp"
