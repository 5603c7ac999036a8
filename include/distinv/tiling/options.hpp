#pragma once
// tiling/options.hpp: the knobs of the tiling strategies — pad mode (core's one Padding
// enum), blending, the TilingOptions struct read by OverlapTilingStrategy and BasicStrategy —
// and BatchLimit, how many patches tiled processing hands to a processor at once (bounded by
// a byte budget). parse_blend maps configuration-file strings (at the app edge only).
// STL and core/ only.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::tiling {

using distinv::to_string;

/// How a window reaches outside the signal: kernels::Padding (reflect mirrors without
/// repeating the edge sample, replicate repeats the edge, circular wraps, zeros pads 0);
/// `valid` means no padding and is refused by the strategies.
using kernels::Padding;
using kernels::parse_padding;
/// The padding's name ("reflect", ...).
inline std::string_view to_string(Padding p) { return kernels::padding_name(p); }

/// How overlapping windows are combined. `none`: crop-and-paste, each output sample owned by
/// exactly one window (as the Python reference). `linear` / `gaussian`: every window adds its
/// whole patch with a tent / Gaussian weight, normalised by the sum of the weights of all
/// windows covering the sample (computed from the layout, so per-rank contributions add up).
enum class Blend { none, linear, gaussian };

/// "none", "linear" or "gaussian".
inline std::string_view to_string(Blend b) {
  switch (b) {
    case Blend::none: return "none";
    case Blend::linear: return "linear";
    case Blend::gaussian: return "gaussian";
  }
  return "?";
}

/// "none" | "linear" | "gaussian"; anything else throws.
inline Blend parse_blend(std::string_view s) {
  if (s == "none") return Blend::none;
  if (s == "linear") return Blend::linear;
  if (s == "gaussian") return Blend::gaussian;
  fail("unknown blend \"", std::string(s), "\": expected one of none, linear, gaussian");
}

/// The patch_size meaning "chosen by the cost model" (tiling/patch_size.hpp: auto_patch_size,
/// from the signal's shape, the halo, and TilingOptions' batch_bytes and ranks).
inline constexpr Index auto_patch = 0;

/// The stride meaning "half the patch" (at least 1), for an auto_patch with overlap.
inline constexpr Index half_patch = 0;

/// The byte budget of one batch of windows when none is given (64 MiB): what a processor is
/// handed at once, before its own temporaries (TV keeps about 6 copies of its input).
inline constexpr std::size_t default_batch_bytes = std::size_t(64) << 20;

/// Options of the tiling strategies. Every per-dimension vector holds either one value (used
/// for every tiled dimension) or one value per entry of `tiled_dims`.
struct TilingOptions {
  std::vector<Index> patch_size{256};          ///< interior size of a patch; {auto_patch}: the cost model's
  std::vector<Index> receptive_field_size{32};  ///< halo added on each side of the interior
  std::vector<Index> stride{};                  ///< window step; empty = patch_size; {half_patch}: patch / 2
  std::vector<int> tiled_dims{};                ///< tensor dims tiled; empty = spatial (H,W or D,H,W)
  /// How windows read beyond the signal (default reflect; valid is refused).
  Padding pad_mode = Padding::reflect;
  /// none: crop and paste the interiors; linear: blend overlapping windows.
  Blend blend = Blend::none;
  /// BasicStrategy only: pieces per tiled dim; empty = ceil(size / patch_size) per dim.
  std::vector<Index> num_splits{};
  /// patch_size {auto_patch} only: the bytes one window may take (the batch budget).
  std::size_t batch_bytes = default_batch_bytes;
  /// patch_size {auto_patch} only: the ranks that share the windows.
  int ranks = 1;
};

/// How many patches tiled processing extracts and hands to the processor at once: at most
/// `max_patches` (0 = no count limit) and at most `max_bytes` of windows (at least one patch
/// per batch, whatever its size). Converts from a patch count, the budget staying the default.
struct BatchLimit {
  /// Patches per call at most (0: bounded by the bytes only).
  Index max_patches = 0;
  /// Bytes of windows per call at most (default 64 MiB).
  std::size_t max_bytes = default_batch_bytes;
  /// At most `patches` patches and `bytes` bytes of windows per call (at least one patch).
  BatchLimit(Index patches = 0, std::size_t bytes = default_batch_bytes) : max_patches(patches), max_bytes(bytes) {}

  /// Throws Error unless the limit is usable (`who`: the caller, for the message).
  void check(char const* who) const {
    DISTINV_REQUIRE(max_patches >= 0, who, ": expected max_batch_size >= 0 (0 = bounded by the byte budget only), got ",
                    max_patches);
    DISTINV_REQUIRE(max_bytes > 0, who, ": expected a positive batch byte budget, got ", max_bytes);
  }
  /// Patches per batch for windows of `window_bytes` bytes each.
  Index patches_per_batch(std::size_t window_bytes) const {
    Index n = window_bytes == 0 ? Index(1) : Index(std::max<std::size_t>(1, max_bytes / window_bytes));
    if (max_patches > 0 && max_patches < n) n = max_patches;
    return n;
  }
};

namespace detail {

/// Refuses the pad modes a window cannot use (valid: no padding at all).
inline Padding tiling_padding(Padding p, char const* who) {
  DISTINV_REQUIRE(p != Padding::valid, who, ": pad mode 'valid' cannot pad a window; expected one of circular, ",
                  "reflect, replicate, zeros");
  return p;
}

/// The tiled dims: `dims` validated (in range, strictly increasing), or the spatial dims.
template <int Rank>
std::vector<int> resolve_tiled_dims(std::vector<int> const& dims, char const* who) {
  std::vector<int> out = dims;
  if (out.empty())
    for (int d = 2; d < Rank; ++d) out.push_back(d);
  for (std::size_t i = 0; i < out.size(); ++i) {
    DISTINV_REQUIRE(out[i] >= 0 && out[i] < Rank, who, ": tiled dim must be in [0, ", Rank, "), got ", out[i]);
    DISTINV_REQUIRE(i == 0 || out[i] > out[i - 1], who,
                    ": tiled dims must be strictly increasing, got ", out[i - 1], " then ", out[i]);
  }
  return out;
}

/// A per-dim option expanded to one value per tiled dim (one value = all dims).
inline std::vector<Index> per_dim(std::vector<Index> const& v, std::size_t n, char const* who, char const* what) {
  if (v.size() == 1) return std::vector<Index>(n, v[0]);
  DISTINV_REQUIRE(v.size() == n, who, ": ", what, " must have 1 or ", n, " values (one per tiled dim), got ",
                  v.size());
  return v;
}

}  // namespace detail
}  // namespace distinv::tiling
