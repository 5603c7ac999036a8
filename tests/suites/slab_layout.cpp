// The slab layout's foundation on every backend: all_to_allv, RowPartition, SlabTensor
// (scatter / gather, arithmetic, reductions equal to the replicated ones) and RowExchange (halo
// rows through every boundary rule equal to reading the whole signal; scatter_add is the exact
// adjoint of gather; halos taller than a slab come from ranks further away).
#include <numeric>
#include <random>

#include "backends.hpp"
#include "distinv/layout/rows.hpp"
#include "distinv/layout/slab_tensor.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using layout::RowExchange;
using layout::RowPartition;
using layout::SlabTensor;

namespace {
template <class T, int R>
Tensor<T, R> random_whole(Shape<R> const& s, unsigned seed) {
  Tensor<T, R> t(s);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = T(u(gen));
  return t;
}
}  // namespace

TEST_CASE("all_to_allv: every rank sends a block of its own size to every rank") {
  for_each_backend([](auto& ctx) {
    int const p = ctx.world_size(), r = ctx.rank();
    // rank r sends q + r + 1 values "100 r + q" to rank q (sizes differ per pair, some large)
    std::vector<Index> send_counts(static_cast<std::size_t>(p)), recv_counts(static_cast<std::size_t>(p));
    std::vector<double> send;
    for (int q = 0; q < p; ++q) {
      send_counts[std::size_t(q)] = q + r + 1;
      recv_counts[std::size_t(q)] = r + q + 1;
      for (int k = 0; k < q + r + 1; ++k) send.push_back(100.0 * r + q);
    }
    std::vector<double> recv(std::size_t(std::accumulate(recv_counts.begin(), recv_counts.end(), Index(0))));
    ctx.comm().all_to_allv(std::span<double const>(send), std::span<Index const>(send_counts), std::span<double>(recv),
                           std::span<Index const>(recv_counts));
    std::size_t off = 0;
    for (int q = 0; q < p; ++q)
      for (int k = 0; k < r + q + 1; ++k) CHECK(recv[off++] == 100.0 * q + r);
    // A count that does not add up is an Error before any data moves.
    std::vector<Index> bad = send_counts;
    bad[0] += 1;
    CHECK_THROWS_AS(ctx.comm().all_to_allv(std::span<double const>(send), std::span<Index const>(bad),
                                           std::span<double>(recv), std::span<Index const>(recv_counts)),
                    Error);
  });
}

TEST_CASE("RowPartition: balanced split, owners, and refused layouts") {
  auto const p = RowPartition::balanced(10, 4);
  CHECK(p.offsets() == std::vector<Index>{0, 3, 6, 8, 10});
  CHECK(p.owner(0) == 0);
  CHECK(p.owner(5) == 1);
  CHECK(p.owner(6) == 2);
  CHECK(p.owner(9) == 3);
  CHECK(RowPartition::balanced(4, 4).count(3) == 1);  // a slab of a single row
  CHECK_THROWS_WITH_AS(RowPartition::balanced(3, 4),
                       "distinv: slab layout: expected at least one row per rank, got 3 rows for 4 ranks (use fewer "
                       "ranks or the replicated layout)",
                       Error);
  CHECK_THROWS_AS(RowPartition(std::vector<Index>{0, 2, 2, 5}), Error);  // an empty rank
  CHECK_THROWS_AS(p.owner(10), Error);
}

TEST_CASE_TEMPLATE("SlabTensor: scatter / gather, arithmetic and reductions equal the whole signal's", T, float,
                   double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    for (Index H : {Index(4), Index(7), Index(13)}) {  // not divisible by the ranks, down to one row per rank
      if (H < ctx.world_size()) continue;
      Shape<4> const s{2, 3, H, 5};
      auto const part = RowPartition::balanced(H, ctx.world_size());
      auto const a = random_whole<T, 4>(s, 1), b = random_whole<T, 4>(s, 2);
      auto sa = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), a, part);
      auto sb = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), b, part);
      CHECK(shape_of(sa) == s);
      CHECK(sa.local_rows() == part.count(ctx.rank()));
      CHECK(max_abs_diff(sa.gather(), a) == 0);
      CHECK(max_abs_diff(SlabTensor<T, 4, Comm>::scatter_from(ctx.comm(), ctx.rank() == 0 ? a : Tensor4<T>(), 0, part)
                             .gather(),
                         a) == 0);
      Tensor4<T> const lin = a - b * T(0.5);
      CHECK(max_abs_diff((sa - sb * T(0.5)).gather(), lin) == 0);
      double const tol = distinv::testing::tol<T>();
      CHECK(dot(sa, sb) == doctest::Approx(dot(a, b)).epsilon(tol));
      CHECK(norm(sa) == doctest::Approx(norm(a)).epsilon(tol));
      CHECK(psnr(sa, sb, 2.0) == doctest::Approx(psnr(a, b, 2.0)).epsilon(tol));
      CHECK(max_abs_diff(sa, sb) == max_abs_diff(a, b));
      CHECK(norm(zeros_like(sa)) == 0);
      CHECK(max_abs(filled_like(sa, T(2))) == 2);
      // The in-place forms the solvers use: the bits of the expressions, on slabs and whole.
      T const s3 = T(0.3);
      auto ss = sa;
      scale_(ss, s3);
      CHECK(max_abs_diff(ss.gather(), Tensor4<T>(a * s3)) == 0);
      add_scaled_(ss, sb, T(-s3));
      Tensor4<T> whole = a * s3;
      add_scaled_(whole, b, T(-s3));
      CHECK(max_abs_diff(whole, Tensor4<T>(a * s3 - b * s3)) == 0);
      CHECK(max_abs_diff(ss.gather(), whole) == 0);
      CHECK(norm_of_difference(sa, sb) == norm(sa - sb));  // the same bits
      CHECK(norm_of_difference(a, b) == norm(Tensor4<T>(a - b)));
      auto const other = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), random_whole<T, 4>({2, 3, H + 1, 5}, 3),
                                                          RowPartition::balanced(H + 1, ctx.world_size()));
      CHECK_THROWS_AS(dot(sa, other), Error);  // a layout mismatch is seen alike on every rank
    }
  });
}

TEST_CASE_TEMPLATE("RowExchange: halo rows through every boundary rule; scatter_add is the adjoint of gather", T,
                   float, double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const r = ctx.rank();
    for (Index H : {Index(5), Index(9)}) {
      if (H < ctx.world_size()) continue;
      Shape<4> const s{1, 2, H, 3};
      auto const part = RowPartition::balanced(H, ctx.world_size());
      auto const whole = random_whole<T, 4>(s, 11);
      auto const x = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), whole, part);
      for (auto pad : {kernels::Padding::circular, kernels::Padding::reflect, kernels::Padding::replicate,
                       kernels::Padding::zeros})
        for (Index halo : {Index(1), Index(3)}) {  // 3: taller than a slab of one or two rows
          if (pad == kernels::Padding::reflect && halo >= H) continue;
          CAPTURE(kernels::padding_name(pad));
          CAPTURE(halo);
          auto const rows = layout::halo_rows(part, r, halo, halo + 1, pad);
          RowExchange<Comm> ex(ctx.comm(), part, rows);
          auto const block = ex.gather(x);
          for (std::size_t k = 0; k < rows.size(); ++k)
            for (Index pl = 0; pl < 2; ++pl)
              for (Index j = 0; j < 3; ++j) {
                T const want = rows[k] < 0 ? T(0) : whole(0, pl, rows[k], j);
                CHECK(block(0, pl, Index(k), j) == want);
              }
          // <gather(x), b> = <x, scatter_add(b)>, summed over the ranks
          auto const b = random_whole<T, 4>(shape_of(block), 20 + unsigned(r));
          auto back = zeros_like(x);
          ex.scatter_add(b, back);
          double lhs = dot(block, b);
          ctx.all_reduce(std::span<double>(&lhs, 1));
          double const rhs = dot(x, back);
          CHECK(lhs == doctest::Approx(rhs).epsilon(10 * distinv::testing::tol<T>()));
        }
      CHECK_THROWS_AS(RowExchange<Comm>(ctx.comm(), part, std::vector<Index>{H}), Error);
    }
  });
}
