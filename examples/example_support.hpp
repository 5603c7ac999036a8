#pragma once
// examples/example_support.hpp: what the example programs share: the input image (a PNG, or
// the built-in test image) and running an SPMD body on the backend the command line chose
// (launch_selected.hpp).
#include <algorithm>
#include <string>

#include "distinv/core/checked.hpp"
#include "distinv/distinv.hpp"
#include "distinv/io/png.hpp"
#include "launch_selected.hpp"

namespace distinv::examples {

/// The built-in size x size RGB test image when `path` is empty; otherwise the PNG at `path`
/// as RGB, resized so that its longest side is `size` (0: kept; enlarge = false: only shrunk);
/// `limits` bound what reading the PNG may allocate.
inline Tensor4<float> load_image(std::string const& path, Index size, bool enlarge = true, io::PngLimits limits = {}) {
  if (path.empty()) return io::test_image<float>(size, size, 3);
  Tensor4<float> img = io::to_rgb(io::read_png<float>(path, limits));
  Index const h = img.dimension(2), w = img.dimension(3), longest = std::max(h, w);
  if (size > 0 && (longest > size || (enlarge && longest < size)))
    img = io::resize_bilinear(img, std::max<Index>(1, checked_mul(h, size, "load_image") / longest),
                              std::max<Index>(1, checked_mul(w, size, "load_image") / longest));
  return img;
}

}  // namespace distinv::examples
