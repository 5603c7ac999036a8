#pragma once
// examples/distinv-pnp/budget.hpp: the memory budget of a run and the estimate checked against
// it before anything large is allocated. available_memory() is the least of MemAvailable
// (/proc/meminfo, or sysconf), the cgroup's memory.max minus its usage and the address-space
// limit minus what is mapped; parse_memory_limit reads --memory-limit ("auto", "8G", "512M").
// estimate_memory counts the image copies, measurements and tile batches a run holds, from
// measurements of the program's peak memory (see the figures in the report of issue #16).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "distinv/core/checked.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/patch_size.hpp"
#include "config.hpp"

namespace pnp {

using Bytes = std::uint64_t;

namespace detail {
/// The number in /proc/meminfo's line `key` (in kB), as bytes; nullopt if absent.
inline std::optional<Bytes> meminfo(std::string const& key) {
  std::ifstream in("/proc/meminfo");
  std::string k;
  Bytes kb = 0;
  std::string unit;
  while (in >> k >> kb >> unit)
    if (k == key + ":") return kb * 1024;
  return std::nullopt;
}
/// The first number of a file (cgroup's memory.max is "max" when unlimited: nullopt).
inline std::optional<Bytes> number_in(char const* path) {
  std::ifstream in(path);
  Bytes v = 0;
  if (in >> v) return v;
  return std::nullopt;
}
}  // namespace detail

/// Bytes this process may still allocate, as best the system tells.
inline Bytes available_memory() {
  Bytes avail = 0;
  if (auto m = detail::meminfo("MemAvailable")) {
    avail = *m;
  } else {
    long const pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    avail = pages > 0 && page > 0 ? Bytes(pages) * Bytes(page) : ~Bytes(0);
  }
  auto const max = detail::number_in("/sys/fs/cgroup/memory.max");
  auto const used = detail::number_in("/sys/fs/cgroup/memory.current");
  if (max && used) avail = std::min(avail, *max > *used ? *max - *used : 0);
  rlimit lim{};
  if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    long const page = sysconf(_SC_PAGESIZE);
    std::ifstream statm("/proc/self/statm");
    Bytes mapped_pages = 0;
    statm >> mapped_pages;
    Bytes const mapped = mapped_pages * Bytes(std::max(page, 1L));
    avail = std::min(avail, Bytes(lim.rlim_cur) > mapped ? Bytes(lim.rlim_cur) - mapped : 0);
  }
  return avail;
}

/// "1.5 GB"-style text of a byte count.
inline std::string human(Bytes b) {
  char const* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  char s[32];
  std::snprintf(s, sizeof s, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return s;
}

/// --memory-limit: nullopt for "auto", else a byte count ("123", "64K", "512M", "1.5G", "2T";
/// powers of 1024). Throws Error for anything else.
inline std::optional<Bytes> parse_memory_limit(std::string const& text) {
  if (text == "auto") return std::nullopt;
  std::istringstream in(text);
  double v = 0;
  std::string suffix;
  bool const number = static_cast<bool>(in >> v);
  in >> suffix;
  double scale = 0;
  if (suffix.empty() || suffix == "B") scale = 1;
  else if (suffix == "K" || suffix == "KB") scale = 1024.0;
  else if (suffix == "M" || suffix == "MB") scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "GB") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "TB") scale = 1024.0 * 1024 * 1024 * 1024;
  std::string rest;
  DISTINV_REQUIRE(number && scale > 0 && !(in >> rest) && std::isfinite(v) && v > 0 && v * scale < 1.8e19,
                  "--memory-limit: expected auto or a positive size such as 512M, 8G (K, M, G, T: powers of 1024), "
                  "got '", text, "'");
  return Bytes(v * scale);
}

/// The budget of one process: --memory-limit, or the available memory shared among the
/// `local_processes` of this machine (MPI ranks started on it).
inline Bytes memory_budget(Config const& cfg, int local_processes) {
  if (auto b = parse_memory_limit(cfg.memory_limit)) return *b;
  return available_memory() / Bytes(std::max(1, local_processes));
}

/// What a run holds at its peak, in bytes, and the parts that make it up.
struct MemoryEstimate {
  Bytes total = 0;
  std::string parts;
};

/// --patch-size, or (0, the default) the cost model's for this image, halo and rank count.
inline distinv::Index patch_size_of(Config const& cfg, distinv::Shape<4> const& shape, int ranks, distinv::Index halo) {
  if (cfg.patch_size != distinv::tiling::auto_patch) return cfg.patch_size;
  return distinv::tiling::auto_patch_size(std::array{shape[2], shape[3]}, cfg.strategy == "basic" ? 0 : halo,
                                          std::size_t(shape[0] * shape[1]) * 4, distinv::tiling::default_batch_bytes,
                                          std::max(1, ranks));
}

/// Tiles of one tiled dim of size n as the current tiling strategies cut it with patches of
/// `patch`: (count, window).
inline std::pair<Bytes, Bytes> tiles_along(Config const& cfg, distinv::Index patch, distinv::Index n,
                                           distinv::Index halo) {
  using distinv::Index;
  Index const p = std::min(patch, n);
  if (cfg.strategy == "basic") {  // ceil(n / patch) pieces, no halo
    Index const count = (n + patch - 1) / patch;
    return {Bytes(count), Bytes((n + count - 1) / count)};
  }
  Index const stride = cfg.overlap ? std::max<Index>(1, p / 2) : p;  // overlap / smart tiling
  return {Bytes((n - p + stride - 1) / stride + 1), Bytes(p + 2 * halo)};
}

/// The tiles of a run on `shape` over P ranks: their number, a rank's share, one window's bytes
/// and one processor call's batch (the rank's tiles, at most tiling::default_batch_bytes of windows
/// and at least one window, as TilingConfig's batch bound cuts them).
struct TileCost {
  Bytes tiles = 0, mine = 0, window = 0, batch = 0;
};
inline TileCost tile_cost(Config const& cfg, distinv::Shape<4> const& shape, Bytes P, distinv::Index halo) {
  char const* what = "memory estimate";
  distinv::Index const patch = patch_size_of(cfg, shape, int(P), halo);
  auto const [th, wh] = tiles_along(cfg, patch, shape[2], halo);
  auto const [tw, ww] = tiles_along(cfg, patch, shape[3], halo);
  TileCost c;
  c.tiles = distinv::checked_mul(th, tw, what);
  c.mine = (c.tiles + P - 1) / P;
  c.window = distinv::checked_product<Bytes>({Bytes(shape[0]), Bytes(shape[1]), wh, ww, 4}, what);
  Bytes const per_call = std::max<Bytes>(1, Bytes(distinv::tiling::default_batch_bytes) / c.window);
  c.batch = distinv::checked_mul(std::min(c.mine, per_call), c.window, what);
  return c;
}

/// The estimate of a run whose size does not fit in 64 bits: more than any budget.
inline MemoryEstimate overflowing_estimate(distinv::Shape<4> const& shape, Bytes operators, int in_process) {
  return {~Bytes(0), distinv::detail::cat("more than 2^64 bytes: image ", distinv::to_string(shape), ", ", operators,
                                          " operator(s), ", in_process, " rank(s) in this process")};
}

/// The peak memory of one process of a run of `cfg` on an image of `shape` with `world` ranks,
/// `in_process` of them in this process (Threads: all; MPI and single: 1); `halo` is the
/// tiles' halo. Fitted on measured peaks (256²-1024² RGB, 1-8 ranks, 2-24 operators, patch
/// 16-128, every algorithm, denoiser and strategy; the estimate is 1.1-1.5 times the measured
/// peak): 5 image copies per rank, 4 per owned operator, 1 per operator (every rank gathers the
/// measurements), 5 per process (clean image, montage), twice the tile batch of a rank (the
/// batch and its denoised copy, TileCost's batch), and 30 MB of program.
inline MemoryEstimate estimate_memory(Config const& cfg, distinv::Shape<4> const& shape, int world, int in_process,
                                      distinv::Index halo) {
  using distinv::checked_add;
  using distinv::checked_mul;
  char const* what = "memory estimate";
  Bytes const P = Bytes(std::max(1, world)), N = Bytes(cfg.operators);
  MemoryEstimate e;
  try {
    Bytes const pixels = distinv::checked_product<Bytes>({Bytes(shape[2]), Bytes(shape[3])}, what);
    Bytes const image = distinv::checked_product<Bytes>({Bytes(shape[0]), Bytes(shape[1]), pixels, 4}, what);
    auto const [tiles, mine, window, batch] = tile_cost(cfg, shape, P, halo);
    Bytes const owned = (N + P - 1) / P;
    Bytes const per_rank = checked_add(checked_mul(image, checked_add<Bytes>(5 + N, 4 * owned, what), what),
                                       checked_mul<Bytes>(2, batch, what), what);
    Bytes const shared = checked_add<Bytes>(checked_mul<Bytes>(5, image, what), Bytes(30) << 20, what);
    e.total = checked_add(shared, checked_mul(per_rank, Bytes(in_process), what), what);
    e.parts = distinv::detail::cat("image ", human(image), ", ", N, " operator(s), ", tiles, " tile(s) of ",
                                   human(window), " (", mine, " per rank), ", in_process, " rank(s) in this process");
  } catch (distinv::Error const&) {
    e = overflowing_estimate(shape, N, in_process);
  }
  return e;
}

/// The slab copies of the image a run holds at its peak in the slab layout, besides the
/// measurements, the fused spectra, the prior's blocks and its tile batch: the larger of its
/// start and its iterations. Both hold the clean image (for the PSNR) and the signal (2); a
/// distributed FFT pair (a gradient, the normal operator, the back-projection) holds its output
/// and its two transposes (3; 2 on one rank). The start: that FFT with --init backprojection,
/// else the pseudo-inverse's CG (x, the residual and the direction: 3 more). An iteration: pgd
/// the gradient's FFT, fista that and its extrapolated point (1 more), hqs A^T y and CG's x,
/// residual and direction (4 more). The point to denoise and the prior's result are held with
/// the prior's blocks, which are counted apart.
inline Bytes sharded_solver_copies(Config const& cfg) {
  Bytes const fft = 3;
  Bytes const start = 2 + fft + (cfg.init == "backprojection" ? 0 : 3);
  Bytes const iteration = 2 + fft + (cfg.algorithm == "hqs" ? 4 : cfg.algorithm == "fista" ? 1 : 0);
  return std::max(start, iteration);
}

/// The peak memory of one process of a run in the slab layout (--layout sharded): rank r holds its
/// slab (rows / P, rounded up) of the solver's image copies (sharded_solver_copies), of the N
/// measurements (the bundle keeps the only copy) and of the fused spectra (1.5: B and the S of the
/// physics and of the data fidelity); the rows its tiles read and write beyond its slab (2 (patch +
/// halo) rows, a read block and one result block, 4 with --overlap's colours) and twice its tile
/// batch. The outputs are written from the slabs (rank 0 holds a band of rows); a PNG --image is
/// decoded whole by rank 0 and scattered (3 whole images with its resized copy, counted in every
/// process), a .npy one read by slabs and the built-in one generated by rows (none); plus 64 MiB
/// of program (its libraries and MPI's). The phases are added, not maximised (an upper bound). At
/// 2048² RGB, 3 operators, default tiles and start, estimated against measured (MiB; peak RSS,
/// /usr/bin/time -v, 2 iterations): on one process pgd 888 vs 547, fista 888 vs 595, hqs 936 vs
/// 558; per rank on 2 MPI ranks pgd 558 vs 483, fista 558 vs 507, hqs 582 vs 529; at 8192² on 2
/// MPI ranks pgd 5.7 GiB vs 4.2 GiB.
inline MemoryEstimate estimate_sharded_memory(Config const& cfg, distinv::Shape<4> const& shape, int world,
                                              int in_process, distinv::Index halo) {
  using distinv::checked_add;
  using distinv::checked_mul;
  using distinv::checked_product;
  char const* what = "memory estimate";
  Bytes const P = Bytes(std::max(1, world)), N = Bytes(cfg.operators);
  MemoryEstimate e;
  try {
    Bytes const row = checked_product<Bytes>({Bytes(shape[0]), Bytes(shape[1]), Bytes(shape[3]), 4}, what);
    Bytes const image = checked_mul(row, Bytes(shape[2]), what);
    Bytes const rows = (Bytes(shape[2]) + P - 1) / P, slab = checked_mul(row, rows, what);
    auto const [tiles, mine, window, batch] = tile_cost(cfg, shape, P, halo);
    Bytes const block_rows = std::min<Bytes>(Bytes(shape[2]), rows + 2 * Bytes(patch_size_of(cfg, shape, world, halo) + halo));
    Bytes const blocks = checked_mul(checked_mul(row, block_rows, what), Bytes(cfg.overlap ? 5 : 2), what);
    Bytes const copies = checked_add(checked_mul(slab, checked_add(sharded_solver_copies(cfg), N, what), what),
                                     checked_mul<Bytes>(slab, 3, what) / 2, what);
    Bytes const per_rank =
        checked_add(checked_add(copies, blocks, what), checked_mul<Bytes>(2, batch, what), what);
    Bytes const shared =
        checked_add<Bytes>(checked_mul<Bytes>(cfg.image.empty() || npy_input(cfg) ? 0 : 3, image, what), Bytes(64) << 20, what);
    e.total = checked_add(shared, checked_mul(per_rank, Bytes(in_process), what), what);
    e.parts = distinv::detail::cat("sharded layout: image ", human(image), ", a slab of ", rows, " row(s) (",
                                   human(slab), ") per rank, ", N, " operator(s), ", tiles, " tile(s) of ",
                                   human(window), " (", mine, " per rank), ", in_process, " rank(s) in this process");
  } catch (distinv::Error const&) {
    e = overflowing_estimate(shape, N, in_process);
  }
  return e;
}

/// Whether the run takes the slab layout: --layout sharded, or auto when the replicated estimate
/// exceeds `budget`.
inline bool sharded_layout(Config const& cfg, distinv::Shape<4> const& shape, int world, int in_process,
                           distinv::Index halo, Bytes budget) {
  if (cfg.layout != "auto") return cfg.layout == "sharded";
  return estimate_memory(cfg, shape, world, in_process, halo).total > budget;
}

/// The estimate of the layout the run takes.
inline MemoryEstimate estimate_memory_of(bool sharded, Config const& cfg, distinv::Shape<4> const& shape, int world,
                                         int in_process, distinv::Index halo) {
  return sharded ? estimate_sharded_memory(cfg, shape, world, in_process, halo)
                 : estimate_memory(cfg, shape, world, in_process, halo);
}

/// Throws Error unless `e` fits the budget.
inline void check_budget(MemoryEstimate const& e, Bytes budget) {
  DISTINV_REQUIRE(e.total <= budget, "this run needs about ", human(e.total), " of memory (", e.parts,
                  "), more than the limit of ", human(budget),
                  " (--memory-limit; auto: the available memory); choose fewer operators or ranks, a smaller image ",
                  "or larger tiles, or set --memory-limit");
}

}  // namespace pnp
