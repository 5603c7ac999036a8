#pragma once
// tiling/options.hpp: the knobs of the tiling strategies — pad mode, blending, and the
// TilingOptions struct read by OverlapTilingStrategy, BasicStrategy and create_strategy —
// plus the parsers that map configuration-file strings onto them (at the app edge only).
// STL and core/error.hpp only.
#include <string>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::tiling {

using distinv::to_string;

/// How a window reaches outside the signal. `reflect` mirrors without repeating the edge
/// sample (torch "reflect"), `replicate` repeats the edge, `circular` wraps, `zeros` pads 0.
enum class PadMode { reflect, replicate, circular, zeros };

/// How overlapping windows are combined. `none`: crop-and-paste, each output sample owned by
/// exactly one window (as the Python reference). `linear` / `gaussian`: every window adds its
/// whole patch with a tent / Gaussian weight, normalised by the sum of the weights of all
/// windows covering the sample (computed from the layout, so per-rank contributions add up).
enum class Blend { none, linear, gaussian };

inline std::string_view to_string(PadMode m) {
  switch (m) {
    case PadMode::reflect: return "reflect";
    case PadMode::replicate: return "replicate";
    case PadMode::circular: return "circular";
    case PadMode::zeros: return "zeros";
  }
  return "?";
}

inline std::string_view to_string(Blend b) {
  switch (b) {
    case Blend::none: return "none";
    case Blend::linear: return "linear";
    case Blend::gaussian: return "gaussian";
  }
  return "?";
}

/// "reflect" | "replicate" | "circular" | "zeros" (also "constant"); anything else throws.
inline PadMode parse_pad_mode(std::string_view s) {
  if (s == "reflect") return PadMode::reflect;
  if (s == "replicate") return PadMode::replicate;
  if (s == "circular") return PadMode::circular;
  if (s == "zeros" || s == "constant") return PadMode::zeros;
  fail("unknown pad mode \"", std::string(s), "\": expected one of reflect, replicate, circular, zeros");
}

/// "none" | "linear" | "gaussian"; anything else throws.
inline Blend parse_blend(std::string_view s) {
  if (s == "none") return Blend::none;
  if (s == "linear") return Blend::linear;
  if (s == "gaussian") return Blend::gaussian;
  fail("unknown blend \"", std::string(s), "\": expected one of none, linear, gaussian");
}

/// Options of the tiling strategies. Every per-dimension vector holds either one value (used
/// for every tiled dimension) or one value per entry of `tiled_dims`.
struct TilingOptions {
  std::vector<Index> patch_size{256};          ///< interior size of a patch
  std::vector<Index> receptive_field_size{32};  ///< halo added on each side of the interior
  std::vector<Index> stride{};                  ///< window step; empty = patch_size (1 <= stride <= patch)
  std::vector<int> tiled_dims{};                ///< tensor dims tiled; empty = spatial (H,W or D,H,W)
  PadMode pad_mode = PadMode::reflect;
  Blend blend = Blend::none;
  /// BasicStrategy only: pieces per tiled dim; empty = ceil(size / patch_size) per dim.
  std::vector<Index> num_splits{};
};

namespace detail {

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
