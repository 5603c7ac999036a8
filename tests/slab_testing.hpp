#pragma once
// tests/slab_testing.hpp: what the slab-layout suites share: the row partitions they run on
// (balanced, one-row slabs first, one row last), a folder every rank names alike, the check
// that a call throws the same Error on every rank, reference computations run one rank at a
// time, and the checks every engine of the fused normal operator on slabs (physics::CircularNormal
// over SlabFft and FftwMpiSlabFft) passes.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends.hpp"
#include "distinv/core/error.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "unit/io_temp_dir.hpp"

namespace distinv::testing {

/// H rows (H > P) over P ranks: balanced; ranks 0 .. P-2 holding one row each; the last rank
/// holding one row. One partition for P = 1.
inline std::vector<layout::RowPartition> slab_partitions(Index H, int P) {
  std::vector<layout::RowPartition> out{layout::RowPartition::balanced(H, P)};
  if (P > 1) {
    std::vector<Index> first;
    for (int r = 0; r < P; ++r) first.push_back(r);
    first.push_back(H);
    out.emplace_back(std::move(first));
    std::vector<Index> last = layout::RowPartition::balanced(H - 1, P - 1).offsets();
    last.push_back(H);
    out.emplace_back(std::move(last));
  }
  return out;
}

/// A folder that every rank names alike: rank 0 makes it and broadcasts its path; it is removed
/// once every rank is done with it (a barrier, then rank 0's TempDir goes).
template <class Ctx>
class SharedDir {
 public:
  SharedDir(Ctx& ctx, std::string const& tag) : ctx_(ctx) {
    std::vector<std::byte> name;
    if (ctx.rank() == 0) {
      dir_.emplace(tag);
      std::string const s = dir_->path().string();
      name.assign(reinterpret_cast<std::byte const*>(s.data()), reinterpret_cast<std::byte const*>(s.data()) + s.size());
    }
    ctx.comm().broadcast_bytes(name, 0);
    path_ = std::string(reinterpret_cast<char const*>(name.data()), name.size());
  }
  SharedDir(SharedDir const&) = delete;
  SharedDir& operator=(SharedDir const&) = delete;
  ~SharedDir() { ctx_.barrier(); }
  std::filesystem::path operator/(std::string const& name) const { return path_ / name; }
  /// Entries in the folder.
  std::size_t count() const {
    std::size_t n = 0;
    for ([[maybe_unused]] auto const& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  Ctx& ctx_;
  std::optional<distinv::testing::TempDir> dir_;
  std::filesystem::path path_;
};

/// f() on one rank after the other (a barrier after each), for reference computations that may
/// not run on several rank threads at once: std::poisson_distribution calls std::lgamma, which
/// writes glibc's global signgam.
template <class Ctx, class F>
void one_rank_at_a_time(Ctx& ctx, F&& f) {
  for (int q = 0; q < ctx.world_size(); ++q) {
    if (ctx.rank() == q) f();
    ctx.barrier();
  }
}

/// The message of the Error that f throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (Error const& e) {
    return e.what();
  }
  return {};
}

/// Whether every rank of ctx holds the same `msg` (a checksum of it, max- and min-reduced, agrees).
template <class Ctx>
bool same_on_every_rank(Ctx& ctx, std::string const& msg) {
  double h = double(msg.size());
  for (unsigned char c : msg) h = std::fmod(h * 131 + c, 1099511627776.0);
  double v[2] = {h, -h};
  ctx.comm().all_reduce(std::span<double>(v, 2), ReduceOp::max);
  return v[0] == -v[1];
}

/// Checks that f throws an Error, with the same message on every rank; returns the message.
template <class Ctx, class F>
std::string same_error(Ctx& ctx, F&& f) {
  std::string const msg = error_of(f);
  CHECK_FALSE(msg.empty());
  CHECK(same_on_every_rank(ctx, msg));
  return msg;
}

/// A CircularNormal `Normal` on slabs (SlabFft or FftwMpiSlabFft engine) over `comm` for signals of shape s laid out by
/// `part` against the replicated physics::CircularNormal, over three circular blurs (direct, FFT
/// and a filter per channel) and measurements seeded 10, 11, 12: grad, normal, the normal operator
/// alone (add_operator: S only, no B) and A_adjoint_y equal the replicated ones at x seeded 1; the
/// S and B shards hold local_cols · H coefficients per plane; `more(slab, x, whole x, operators,
/// whole measurements)` adds the caller's checks; reset zeroes the gradient, and measurements
/// added again give the same one.
template <class Normal, class Comm, class More>
void check_slab_normal(Comm const& comm, Shape<4> const& s, layout::RowPartition const& part, More&& more) {
  using T = typename Normal::scalar_type;
  using Slab = typename Normal::tensor_type;
  using physics::Blur;
  using physics::BlurMethod;
  using physics::Padding;
  std::vector<Blur<T>> ops;
  ops.emplace_back(physics::gaussian_blur<T>(1.0), Padding::circular, BlurMethod::direct);
  ops.emplace_back(physics::gaussian_blur<T>({0.8, 2.5}, 35), Padding::circular);
  ops.emplace_back(random_tensor<T>(Shape<4>{1, s[1], 4, 3}, 5), Padding::circular, BlurMethod::fft);
  std::array<Index, 2> const weights{1, s[1]};  // the third filter differs per channel
  physics::CircularNormal<T> fused(s, weights);
  Normal slab(comm, s, part, weights), normal_only(comm, s, part, weights);
  std::vector<Tensor4<T>> ys;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ys.push_back(random_tensor<T>(s, 10 + unsigned(i)));
    fused.add(ops[i], ys.back());
    slab.add(ops[i], Slab::scatter(comm, ys.back(), part));
    normal_only.add_operator(ops[i]);
  }
  CHECK(slab.operator_count() == 3);
  auto const whole = random_tensor<T>(s, 1);
  auto const x = Slab::scatter(comm, whole, part);
  double const tol = distinv::testing::tol<T>();  // absolute (the 1e-5 in float), on values up to ~50
  auto const want_grad = Slab::scatter(comm, fused.grad(whole), part);
  auto const want_normal = Slab::scatter(comm, fused.normal(whole), part);
  CHECK(max_abs_diff(slab.grad(x), want_grad) <= tol);
  CHECK(max_abs_diff(slab.normal(x), want_normal) <= tol);
  CHECK(max_abs_diff(normal_only.normal(x), want_normal) <= tol);
  CHECK(max_abs_diff(slab.A_adjoint_y(), Slab::scatter(comm, fused.A_adjoint_y(), part)) <= tol);
  // The shards of S and B are this rank's spectral columns only.
  Index const shard = slab.fft().local_cols() * s[2];
  CHECK(Index(slab.spectrum_sum().size()) == s[1] * shard);
  CHECK(Index(slab.data_term().size()) == 2 * s[0] * s[1] * shard);
  // The normal operator alone holds S only: B is allocated by the first measurement.
  CHECK(normal_only.data_term().empty());
  CHECK(max_abs(normal_only.A_adjoint_y()) == 0);
  CHECK(max_abs_diff(normal_only.grad(x), want_normal) <= tol);
  more(slab, x, whole, ops, ys);
  slab.reset();
  CHECK(slab.data_term().empty());
  CHECK(max_abs(slab.grad(x)) == 0);
  CHECK(max_abs(slab.A_adjoint_y()) == 0);
  // Measurements added again after a reset: the same gradient.
  for (std::size_t i = 0; i < ops.size(); ++i) slab.add(ops[i], Slab::scatter(comm, ys[i], part));
  CHECK(max_abs_diff(slab.grad(x), want_grad) <= tol);
}

}  // namespace distinv::testing
