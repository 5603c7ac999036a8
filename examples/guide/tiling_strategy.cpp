// tiling_strategy: the guide page "Your own tiling strategy". A strategy is geometry only: for
// one signal shape, the windows its patches read and the box of each processed window added
// back (a tiling::TileLayout). Here: vertical strips of patch_size columns over the full
// height, each read with a halo of receptive_field_size columns left and right, zeros outside
// the image. Checks that the strips, spread over the ranks, give exactly what the untiled
// denoiser gives (a 3-tap horizontal mean with zero boundary: the halo covers its reach).
#include <cstdio>
#include <random>
#include <string_view>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/tiling/layout.hpp"
#include "distinv/tiling/with_strategy.hpp"
#include "guide.hpp"

using namespace distinv;

//! [strategy]
class VerticalStrips {
 public:
  static constexpr int rank = 4;  // (B, C, H, W)

  VerticalStrips(Shape<4> const& shape, tiling::TilingOptions const& options) : layout_(shape) {
    Index const cols = options.patch_size.at(0), halo = options.receptive_field_size.at(0), W = shape[3];
    DISTINV_REQUIRE(cols > 0 && halo >= 0, "VerticalStrips: expected patch_size > 0 and a halo >= 0, got ", cols,
                    " and ", halo);
    for (Index left = 0; left < W; left += cols) {
      Index const n = std::min(cols, W - left);
      std::array<std::vector<Index>, 4> maps;  // per dim: the signal index each window sample reads
      for (int d : {0, 1, 2})
        for (Index q = 0; q < shape[d]; ++q) maps[std::size_t(d)].push_back(q);
      for (Index q = left - halo; q < left + n + halo; ++q) maps[3].push_back(q >= 0 && q < W ? q : -1);  // -1: zero
      Shape<4> const window{shape[0], shape[1], shape[2], n + 2 * halo};
      // window columns [halo, halo + n) are added back at columns [left, left + n) of the signal
      layout_.add(window, tiling::ReduceBox<4>{{0, 0, 0, halo}, {0, 0, 0, left}, {shape[0], shape[1], shape[2], n}},
                  maps);
    }
  }
  Shape<4> signal_shape() const { return layout_.signal_shape(); }
  Index num_patches() const { return layout_.num_patches(); }
  tiling::TileLayout<4> const& tile_layout() const { return layout_; }

 private:
  tiling::TileLayout<4> layout_;
};
static_assert(tiling::StrategyFromOptions<VerticalStrips>);  // buildable by distribute and make_distrib_bundle
//! [strategy]

//! [names]
/// The application's names, mapped onto types once, at its edge: its own strategy, then
/// distinv's ("basic", "overlap_tiling", "smart_tiling").
template <class F>
decltype(auto) with_my_strategy(std::string_view name, F&& fn) {
  if (name == "strips") return fn.template operator()<VerticalStrips>();
  return tiling::with_strategy(name, std::forward<F>(fn));
}
//! [names]

/// y_ij = (x_i,j-1 + x_ij + x_i,j+1) / 3, zero outside the image; sigma unused.
Tensor4<float> mean3(Tensor4<float> const& x, double) {
  Tensor4<float> y(x.dimensions());
  Index const W = x.dimension(3);
  for (Index i = 0; i < x.size(); ++i) {
    Index const j = i % W;
    y.data()[i] = (x.data()[i] + (j > 0 ? x.data()[i - 1] : 0.f) + (j + 1 < W ? x.data()[i + 1] : 0.f)) / 3.f;
  }
  return y;
}

int main(int argc, char** argv) {
  Tensor4<float> image(Shape<4>{1, 3, 16, 50});
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(0, 1);
  for (Index i = 0; i < image.size(); ++i) image.data()[i] = u(gen);
  Tensor4<float> const untiled = mean3(image, 0);

  return guide::run(argc, argv, [&](auto& ctx) {
    //! [distribute]
    auto tiled = with_my_strategy("strips", [&]<class Strategy>() {
      // strips of 12 columns (the last one 2), halo 1: the mean's reach
      auto d = distribute<Strategy>(&mean3, ctx, TilingConfig{.patch_size = 12, .receptive_field_size = 1});
      Tensor4<float> y = d(image, 0.0);  // each rank its strips, then one exact sum
      if (ctx.rank() == 0) std::printf("%lld strips over %d ranks\n", (long long)d.strategy().num_patches(), ctx.world_size());
      return y;
    });
    //! [distribute]
    guide::check(max_abs_diff(tiled, untiled) == 0, "tiling_strategy: the strips give the untiled result");
  });
}
