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

/// The shape of the image load_image returns for a PNG of shape `file` (1, C, h, w): RGB, its
/// longest side `size` (0: kept; enlarge = false: only shrunk).
inline Shape<4> loaded_image_shape(Shape<4> const& file, Index size, bool enlarge = true) {
  Index const h = file[2], w = file[3], longest = std::max(h, w);
  if (size > 0 && (longest > size || (enlarge && longest < size)))
    return {1, 3, std::max<Index>(1, checked_mul(h, size, "load_image") / longest),
            std::max<Index>(1, checked_mul(w, size, "load_image") / longest)};
  return {1, 3, h, w};
}

/// The built-in size x size RGB test image when `path` is empty; otherwise the PNG at `path`
/// as RGB, resized so that its longest side is `size` (0: kept; enlarge = false: only shrunk;
/// its shape: loaded_image_shape); `limits` bound what reading the PNG may allocate.
inline Tensor4<float> load_image(std::string const& path, Index size, bool enlarge = true, io::PngLimits limits = {}) {
  if (path.empty()) return io::test_image<float>(size, size, 3);
  Tensor4<float> img = io::to_rgb(io::read_png<float>(path, limits));
  Shape<4> const to = loaded_image_shape(shape_of(img), size, enlarge);
  if (to[2] != img.dimension(2) || to[3] != img.dimension(3)) img = io::resize_bilinear(img, to[2], to[3]);
  return img;
}

}  // namespace distinv::examples
