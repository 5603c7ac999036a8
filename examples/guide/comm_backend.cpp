// comm_backend: the guide page "Your own communication backend". A backend is a copyable type
// with rank(), size(), name() and the blocking collectives of the CommBackend concept; what it
// can do beyond them (shared memory, device buffers) is its comm_traits. Here: a wrapper that
// counts the collectives and bytes any backend moves, with its inner backend's traits. Checks
// that a distributed stack gives the same bits over the wrapper as over the backend itself, and
// that every rank counted the same collectives.
#include <cstdio>
#include <memory>

#include "distinv/comm/traits.hpp"
#include "distinv/distinv.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "guide.hpp"

using namespace distinv;

//! [backend]
template <CommBackend Inner>
class Counted {
 public:
  struct Counts {
    std::int64_t calls = 0, bytes = 0;  ///< collectives entered, bytes this rank sent into them
  };
  explicit Counted(Inner inner) : inner_(std::move(inner)), counts_(std::make_shared<Counts>()) {}

  static constexpr std::string_view name() { return "counted"; }
  int rank() const noexcept { return inner_.rank(); }
  int size() const noexcept { return inner_.size(); }
  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op) const {
    count(buf.size_bytes());
    inner_.all_reduce(buf, op);
  }
  template <class T>
  void broadcast(std::span<T> buf, int root) const {
    count(buf.size_bytes());
    inner_.broadcast(buf, root);
  }
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    count(send.size_bytes());
    inner_.all_gatherv(send, recv, counts);
  }
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    count(send.size_bytes());
    inner_.all_to_allv(send, send_counts, recv, recv_counts);
  }
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const {
    count(bytes.size());
    inner_.broadcast_bytes(bytes, root);
  }
  void barrier() const {
    count(0);
    inner_.barrier();
  }

  Inner const& inner() const noexcept { return inner_; }
  Counts const& counts() const noexcept { return *counts_; }  // shared by the copies of one rank

 private:
  void count(std::size_t bytes) const { ++counts_->calls, counts_->bytes += std::int64_t(bytes); }
  Inner inner_;
  std::shared_ptr<Counts> counts_;
};
static_assert(CommBackend<Counted<comm::SingleProcess>>);  // a concept failure names what is missing

/// Counted shares memory, takes device pointers, ... exactly when the backend it wraps does.
constexpr auto counted_inner = [](auto const& c) -> auto const& { return c.inner(); };
template <class Inner>
struct distinv::comm_traits<Counted<Inner>> : forward_comm_traits<Inner, counted_inner> {};
//! [backend]
static_assert(comm_traits<Counted<comm::Threads>>::shares_memory && !comm_traits<Counted<comm::SingleProcess>>::shares_memory);

int main(int argc, char** argv) {
  Tensor4<float> x(Shape<4>{1, 1, 40, 40});
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float((i * 37) % 101) / 101.f;
  std::vector<physics::Blur<float>> blurs;
  for (double s : {0.8, 1.3, 2.1}) blurs.emplace_back(physics::gaussian_blur<float>(s), physics::Padding::reflect);

  return guide::run(argc, argv, [&](auto& ctx) {
    //! [use]
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    DistributedContext<Counted<Comm>> counted(Counted<Comm>(ctx.comm()), ctx.options());  // the same ranks
    auto const A = distribute(blurs, counted);
    Tensor4<float> const g = A.A_adjoint_A(x);  // Σ_i A_iᵀ A_i x over the counted backend
    auto const [calls, bytes] = counted.comm().counts();
    //! [use]
    Tensor4<float> const plain = distribute(blurs, ctx).A_adjoint_A(x);
    std::printf("rank %d: %lld collectives, %lld bytes sent for one A_adjoint_A\n", ctx.rank(), (long long)calls,
                (long long)bytes);
    guide::check(max_abs_diff(g, plain) == 0, "comm_backend: the wrapper changes no bit");
    guide::check(calls > 0 && ctx.all_reduce_value(calls, ReduceOp::max) == ctx.all_reduce_value(calls, ReduceOp::min),
                 "comm_backend: every rank entered the same collectives");
  });
}
