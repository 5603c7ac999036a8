// Collectives and context, run on every backend (tests/backends.hpp).
#include <numeric>

#include "backends.hpp"
#include "distinv/distributed/detail/agreed_sum.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;

TEST_CASE_TEMPLATE("all_reduce: sum, mean, max, min", T, float, double) {
  for_each_backend([](auto& ctx) {
    int const p = ctx.world_size(), r = ctx.rank();
    for (std::size_t n : {std::size_t(1), std::size_t(5), std::size_t(1000)}) {  // fewer elements than ranks too
      std::vector<T> v(n);
      auto fill = [&] { for (std::size_t i = 0; i < n; ++i) v[i] = T(r + 1) * T(i + 1); };
      T const ranks_sum = T(p * (p + 1) / 2);
      fill();
      ctx.all_reduce(std::span<T>(v), ReduceOp::sum);
      for (std::size_t i = 0; i < n; ++i) CHECK(v[i] == T(i + 1) * ranks_sum);
      fill();
      ctx.all_reduce(std::span<T>(v), ReduceOp::mean);
      for (std::size_t i = 0; i < n; ++i) CHECK(v[i] == doctest::Approx(double(T(i + 1) * ranks_sum) / p));
      fill();
      ctx.all_reduce(std::span<T>(v), ReduceOp::max);
      for (std::size_t i = 0; i < n; ++i) CHECK(v[i] == T(p) * T(i + 1));
      fill();
      ctx.all_reduce(std::span<T>(v), ReduceOp::min);
      for (std::size_t i = 0; i < n; ++i) CHECK(v[i] == T(i + 1));
    }
    CHECK(ctx.all_reduce_value(std::int64_t(r), ReduceOp::max) == p - 1);
  });
}

TEST_CASE("all_reduce of a tensor is the same on every rank and reproducible") {
  for_each_backend([](auto& ctx) {
    Tensor4<float> x(1, 3, 17, 19);
    std::mt19937 gen(1234 + ctx.rank());
    std::uniform_real_distribution<float> u(-1, 1);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = u(gen);
    Tensor4<float> y = x;
    ctx.all_reduce(x);
    ctx.all_reduce(y);
    CHECK(max_abs_diff(x, y) == 0);  // same inputs, same order: bitwise the same
    Tensor4<float> first = x;        // rank 0's copy must equal everyone's
    ctx.broadcast(first, 0);
    CHECK(max_abs_diff(first, x) == 0);
  });
}

TEST_CASE("broadcast from every root, including non-zero ones") {
  for_each_backend([](auto& ctx) {
    for (int root = 0; root < ctx.world_size(); ++root) {
      std::vector<double> v(7, double(ctx.rank()));
      if (ctx.rank() == root) std::iota(v.begin(), v.end(), 10.0 * root);
      ctx.broadcast(std::span<double>(v), root);
      for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == 10.0 * root + double(i));
    }
    CHECK_THROWS_AS(ctx.broadcast(std::span<double>{}, ctx.world_size()), Error);  // local check, no collective
  });
}

TEST_CASE("all_gatherv with unequal counts (some ranks send nothing)") {
  for_each_backend([](auto& ctx) {
    int const p = ctx.world_size();
    std::vector<Index> counts(static_cast<std::size_t>(p));
    for (int q = 0; q < p; ++q) counts[std::size_t(q)] = q % 2 == 1 ? 0 : q + 2;
    std::vector<double> send(std::size_t(counts[std::size_t(ctx.rank())]), 100.0 * ctx.rank());
    for (std::size_t i = 0; i < send.size(); ++i) send[i] += double(i);
    std::vector<double> recv(static_cast<std::size_t>(std::accumulate(counts.begin(), counts.end(), Index(0))));
    ctx.comm().all_gatherv(std::span<double const>(send), std::span<double>(recv), std::span<Index const>(counts));
    std::size_t off = 0;
    for (int q = 0; q < p; ++q)
      for (Index i = 0; i < counts[std::size_t(q)]; ++i) CHECK(recv[off++] == 100.0 * q + double(i));
  });
}

TEST_CASE("broadcast_bytes resizes and copies") {
  for_each_backend([](auto& ctx) {
    int const root = ctx.world_size() - 1;
    std::vector<std::byte> bytes;
    if (ctx.rank() == root) bytes = {std::byte{1}, std::byte{2}, std::byte{3}};
    ctx.comm().broadcast_bytes(bytes, root);
    REQUIRE(bytes.size() == 3);
    CHECK(bytes[2] == std::byte{3});
  });
}

template <class S>
void check_sharding_covers_every_index() {
  for_each_backend<S>([](auto& ctx) {
    for (Index n : {0, 1, 2, 3, 7, 12}) {
      std::vector<double> owned(std::size_t(n), 0.0);
      for (Index i : ctx.local_indices(n)) {
        CHECK(ctx.owner(i, n) == ctx.rank());
        owned[std::size_t(i)] += 1;
      }
      ctx.all_reduce(std::span<double>(owned));
      for (double c : owned) CHECK(c == 1.0);
    }
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}
TEST_CASE("round-robin sharding covers every index once") { check_sharding_covers_every_index<shard::RoundRobin>(); }
TEST_CASE("block sharding covers every index once") { check_sharding_covers_every_index<shard::Block>(); }

TEST_CASE("seeding: seed + rank by default, shared on request") {
  for_each_backend([](auto& ctx) {
    CHECK(ctx.seed() == std::uint64_t(ctx.rank()));
    double const draw = double(ctx.rng()()) / 1e19;
    double lo = ctx.all_reduce_value(draw, ReduceOp::min), hi = ctx.all_reduce_value(draw, ReduceOp::max);
    if (ctx.world_size() > 1) CHECK(lo != hi);
  });
  for_each_backend([](auto& ctx) {
    CHECK(ctx.seed() == 42);
    double const draw = double(ctx.rng()()) / 1e19;
    CHECK(ctx.all_reduce_value(draw, ReduceOp::min) == ctx.all_reduce_value(draw, ReduceOp::max));
  }, distinv::testing::all_thread_counts, ContextOptions{.seed = 42, .shared_seed = true});
}

TEST_CASE("collectively: a failure on one rank is an Error on every rank, no hang") {
  for_each_backend([](auto& ctx) {
    int const bad = ctx.world_size() - 1;
    std::string message;
    try {
      ctx.collectively("building operator 3", [&] {
        if (ctx.rank() == bad) throw std::runtime_error("kernel file missing");
      });
    } catch (Error const& e) {
      message = e.what();
    }
    CHECK(message == "distinv: building operator 3 failed on rank " + std::to_string(bad) + ": kernel file missing");
    // Nobody failed: the value comes back and the ranks go on together.
    CHECK(ctx.collectively("a sum", [&] { return ctx.rank() + 1; }) == ctx.rank() + 1);
    ctx.barrier();
  });
}

TEST_CASE("collectively: an exception with an empty message is still a failure on every rank") {
  struct Silent : std::exception {
    char const* what() const noexcept override { return ""; }
  };
  for_each_backend([](auto& ctx) {
    int const bad = ctx.world_size() - 1;
    std::string message;
    try {
      ctx.collectively("a silent step", [&] {
        if (ctx.rank() == bad) throw Silent();
      });
    } catch (Error const& e) {
      message = e.what();
    }
    CHECK(message == "distinv: a silent step failed on rank " + std::to_string(bad) +
                         ": an exception with an empty message");
    // With a result: no empty optional is dereferenced, every rank throws.
    CHECK_THROWS_WITH_AS(ctx.collectively("a silent value",
                                          [&] {
                                            if (ctx.rank() == bad) throw Silent();
                                            return 1;
                                          }),
                         ("distinv: a silent value failed on rank " + std::to_string(bad) +
                          ": an exception with an empty message").c_str(),
                         Error);
    ctx.barrier();
  });
}

TEST_CASE("agreed_sum: an exception with an empty message on one rank is an Error on every rank") {
  struct Silent : std::exception {
    char const* what() const noexcept override { return ""; }
  };
  for_each_backend([](auto& ctx) {
    int const bad = ctx.world_size() - 1;
    auto local = [&](auto& sink) {
      if (ctx.rank() == bad) throw Silent();
      sink(zeros_of<Tensor4<double>>(Shape<4>{1, 1, 2, 2}));
    };
    CHECK_THROWS_WITH_AS((distinv::detail::agreed_sum<reduce::Exact, Tensor4<double>>(ctx, "a sum", 1, local)),
                         ("distinv: a sum failed on rank " + std::to_string(bad) + ": unknown error").c_str(), Error);
    ctx.barrier();
  });
}

#ifdef DISTINV_TESTING_MPI
TEST_CASE("mpi: the backend's communicators return errors, which become distinv::Error") {
  comm::Mpi const m(MPI_COMM_WORLD);
  MPI_Errhandler handler = MPI_ERRHANDLER_NULL;
  REQUIRE(MPI_Comm_get_errhandler(m.native(), &handler) == MPI_SUCCESS);
  CHECK(handler == MPI_ERRORS_RETURN);
  MPI_Errhandler_free(&handler);
  // An invalid datatype: the default handler would abort the job; here the call returns.
  double v = 1;
  int const code = MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DATATYPE_NULL, MPI_SUM, m.native());
  CHECK(code != MPI_SUCCESS);
  CHECK_THROWS_WITH_AS(comm::detail::check(code, "MPI_Allreduce"), doctest::Contains("MPI_Allreduce failed: "), Error);
  m.barrier();
}
#endif

TEST_CASE("comm_traits: each backend says what it can do") {
  static_assert(!comm_traits<comm::SingleProcess>::shares_memory && comm_traits<comm::Threads>::shares_memory);
  static_assert(!comm_traits<comm::SingleProcess>::has_device_comm && !comm_traits<comm::Threads>::has_device_comm);
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using traits = comm_traits<Comm>;
    CHECK(traits::shares_memory == (Comm::name() == "threads"));
    CHECK_FALSE(traits::has_device_comm);
    if constexpr (Comm::name() == "mpi") CHECK(traits::device_aware(ctx.comm()) == Comm::device_aware());
    else CHECK_FALSE(traits::device_aware(ctx.comm()));
  });
}
