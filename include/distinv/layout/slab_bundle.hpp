#pragma once
// layout/slab_bundle.hpp: what make_distrib_bundle<layout::Slabs> builds (factory.hpp), so that the
// solvers of optim/solvers.hpp run unchanged on signals in the slab layout. SlabBundle holds a
// SlabStackedPhysics (a ShardedStack with the members the solvers call), SlabMeasurements (each
// rank its slab of every measurement), a SlabDataFidelity (grad: the fused normal equations,
// physics::CircularNormal over the SlabFft engine, for L2 over circular blurs, built once per
// measurement set, else the stack's sum), a SlabSignal and the tiled SlabPrior. Every rank holds
// every operator; nothing here all-reduces an image. Also physics::fused_normal of circular blurs
// on slabs. Host.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/object_id.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/distributed/data_fidelity.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/sharded_physics.hpp"
#include "distinv/layout/sharded_stack.hpp"
#include "distinv/layout/slab_fft.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/layout/tiled_prior.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/physics/fused_normal.hpp"
#include "distinv/physics/pseudo_inverse.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv {
/// The prior of a bundle made without one (make_distrib_bundle, make_slab_bundle).
struct NoPrior {};
}  // namespace distinv

namespace distinv::physics {
/// Circular blurs on slabs fuse into a CircularNormal over the SlabFft engine of their FFT engine
/// (S and B sharded by spectral columns), built by the slab layout (make(like, planes)).
template <class T, class Fft, class Comm>
  requires(Fft::available)
struct fused_normal<layout::Sharded<Blur<T, device::Host, Fft>, Comm>> {
  /// True.
  static constexpr bool available = true;
  /// CircularNormal over layout::SlabFft.
  using type = CircularNormal<T, layout::SlabFft<T, Comm, Fft>>;
  /// True for circular padding.
  static bool usable(layout::Sharded<Blur<T, device::Host, Fft>, Comm> const& op) {
    return fused_normal<Blur<T, device::Host, Fft>>::usable(op.op());
  }
  /// The (Bf, Cf) planes of its filter.
  static std::array<Index, 2> weight_planes(layout::Sharded<Blur<T, device::Host, Fft>, Comm> const& op) {
    return fused_normal<Blur<T, device::Host, Fft>>::weight_planes(op.op());
  }
};
}  // namespace distinv::physics

namespace distinv::layout {

namespace detail {

/// `op` on slabs: Sharded(op, comm, part) for an operator that needs the layout (Inpainting's
/// mask), else Sharded(op, comm).
template <class Op, class Comm>
Sharded<Op, Comm> shard_on(Op const& op, Comm const& comm, RowPartition const& part) {
  if constexpr (std::is_constructible_v<Sharded<Op, Comm>, Op const&, Comm const&, RowPartition const&>)
    return Sharded<Op, Comm>(op, comm, part);
  else
    return Sharded<Op, Comm>(op, comm);
}

/// Whether every operator joins the fused normal equations on slabs (circular blurs).
template <class ShardedOp>
bool fusable(std::vector<ShardedOp> const& ops) {
  if constexpr (physics::fused_normal<ShardedOp>::available) {
    for (auto const& op : ops)
      if (!physics::fused_normal<ShardedOp>::usable(op)) return false;
    return !ops.empty();
  } else {
    return false;
  }
}

/// The fused normal equations of `ops` for signals laid out as `like`: S of every operator, and
/// B of the measurements `y` when given, added in operator order; without `y` the filters'
/// spectra are kept (the stack's normal operator and adjoint). Collectives (the transforms).
template <class ShardedOp, class X>
auto make_fused(std::vector<ShardedOp> const& ops, X const& like, std::type_identity_t<std::vector<X>> const* y) {
  using Fused = physics::fused_normal<ShardedOp>;
  std::array<Index, 2> planes{1, 1};
  for (auto const& op : ops) {
    auto const w = Fused::weight_planes(op);
    planes = {std::max(planes[0], w[0]), std::max(planes[1], w[1])};
  }
  auto n = std::make_shared<typename Fused::type>(like.comm(), like.shape(), like.partition(), planes);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (y) n->add(ops[i].op(), (*y)[i]);
    else n->add_kept(ops[i].op());
  }
  return n;
}

/// One sharded operator whose adjoint returns the signal's layout `part` (the input of
/// physics::A_dagger, which calls A_adjoint(y) and A_adjoint_A(x)).
template <class ShardedOp>
struct OnPartition {
  ShardedOp const* op;
  RowPartition const* part;
  auto A_adjoint(typename ShardedOp::tensor_type const& y) const { return op->A_adjoint(y, *part); }
  auto A_adjoint_A(typename ShardedOp::tensor_type const& x) const { return op->A_adjoint_A(x); }
};

}  // namespace detail

/// The physics of a SlabBundle (and of distribute<layout::Slabs>(stack, ctx, shape)): K operators
/// of type Op (physics/: Blur, Downsampling, Inpainting, Denoising) on slabs, every rank holding all
/// of them (a ShardedStack of layout::Sharded<Op, Comm>), for a signal of one shape laid out by one
/// RowPartition. forward draws operator i's noise as DistributedStackedPhysics does (a generator
/// seeded by (seed, i, call count)): the replicated stack's measurements. Sums over operators are formed on each
/// rank in operator order; no all-reduce of an image. Where every operator is a circular blur,
/// A_adjoint_A is the fused normal operator (a CircularNormal on SlabFft built at the first call of either,
/// its filters transformed once and kept: one distributed FFT pair per call) and A_adjoint goes
/// through the same transform (one transform per measurement and one inverse): both then give the
/// same bits on any partition (the sharded blurs' own adjoint adds the halo rows of neighbours in
/// an order that depends on the split).
template <class Op, CommBackend Comm>
class SlabStackedPhysics {
 public:
  using operator_type = Sharded<Op, Comm>;                   ///< one operator on slabs
  using scalar_type = typename Op::scalar_type;              ///< float or double
  using tensor_type = SlabTensor<scalar_type, 4, Comm>;      ///< signals and measurements
  using list_type = TensorList<tensor_type>;                 ///< one measurement per operator

  /// The operators `ops` on slabs linked by `comm`, for signals of shape `signal_shape` laid out
  /// by `part`; forward's noise from `seed` (the context's seed, as the replicated stack's).
  /// Throws Error for no operator or a bad partition (an operator without a slab path does not compile:
  /// layout::require_slab_path).
  SlabStackedPhysics(std::vector<Op> const& ops, Comm comm, Shape<4> const& signal_shape, RowPartition part,
                     std::uint64_t seed = 0)
      : stack_(shard_all(ops, comm, part)),
        shape_(signal_shape),
        part_(std::move(part)),
        fused_(detail::fusable(stack_.operators())),
        seed_(seed) {
    DISTINV_REQUIRE(part_.rows() == shape_[2] && part_.ranks() == comm.size(), "SlabStackedPhysics: expected a ",
                    "partition of ", shape_[2], " rows over ", comm.size(), " ranks, got ", part_.to_string());
  }

  /// Number of operators K (every rank holds all of them).
  Index num_operators() const noexcept { return Index(stack_.size()); }
  /// The operators on slabs, in operator order.
  ShardedStack<operator_type> const& stack() const noexcept { return stack_; }
  /// The signal's global shape.
  Shape<4> const& signal_shape() const noexcept { return shape_; }
  /// The signal's row partition.
  RowPartition const& partition() const noexcept { return part_; }
  /// Unique in the process (cache keys).
  std::uint64_t id() const noexcept { return id_; }

  /// [A_1 x; ...; A_K x], each laid out by its operator's rule (its output_partition).
  list_type A(tensor_type const& x) const { return list_type(stack_.A(x)); }
  /// [A_1 x + n_1; ...; A_K x + n_K], operator i's noise drawn slab by slab from a generator seeded
  /// by (seed, i, call count), as DistributedStackedPhysics::forward draws it: the same measurements
  /// as the replicated stack's forward, on any number of ranks and any partition. Const, as
  /// DistributedStackedPhysics::forward (the call count is not logical state).
  list_type forward(tensor_type const& x) const {
    std::uint64_t const call = forward_calls_++;
    auto const& ops = stack_.operators();
    list_type y;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::mt19937_64 gen(distinv::detail::operator_seed(seed_, Index(i), call));
      y.push_back(ops[i].forward(x, gen));
    }
    return y;
  }
  /// True where A_adjoint_A and A_adjoint take the fused path (every operator a circular blur).
  bool fused() const noexcept { return fused_; }

  /// Σ_i A_iᵀ y_i, laid out as the signal.
  tensor_type A_adjoint(list_type const& y) const {
    if constexpr (physics::fused_normal<operator_type>::available) {
      bool laid_out = fused_ && y.size() == stack_.size();
      for (auto const& m : y) laid_out = laid_out && m.shape() == shape_ && m.partition() == part_;
      if (laid_out) return fused_normal(y[0]).adjoint(y.items());
    }
    return stack_.A_adjoint(y.items(), part_);
  }
  /// Σ_i A_iᵀ A_i x, laid out as x.
  tensor_type A_adjoint_A(tensor_type const& x) const {
    if constexpr (physics::fused_normal<operator_type>::available) {
      if (fused_ && x.shape() == shape_ && x.partition() == part_) return fused_normal(x).normal(x);
    }
    return stack_.A_adjoint_A(x);
  }

  /// Pseudo-inverse by CG on slabs: local_only: (1/K) Σ_i A_i^† y_i (each by CG on its own normal
  /// equations); otherwise the least-squares solution of the whole stack (CG on AᵀA x = Aᵀy).
  tensor_type A_dagger(list_type const& y, DaggerOptions const& opt = {}) const {
    linalg::CgOptions const cg{opt.max_iter, opt.tol};
    if (!opt.local_only) return physics::A_dagger(*this, y, cg);
    DISTINV_REQUIRE(y.size() == stack_.size(), "SlabStackedPhysics::A_dagger: expected ", stack_.size(),
                    " measurements (one per operator), got ", y.size());
    auto const& ops = stack_.operators();
    tensor_type x = physics::A_dagger(detail::OnPartition<operator_type>{&ops[0], &part_}, y[0], cg);
    for (std::size_t i = 1; i < ops.size(); ++i)
      x += physics::A_dagger(detail::OnPartition<operator_type>{&ops[i], &part_}, y[i], cg);
    return x * scalar_type(1.0 / double(ops.size()));
  }

  /// ‖A‖² by the power method on slabs: local_only: Σ_i ‖A_i‖² (an upper bound); otherwise on
  /// the whole AᵀA (one scalar all-reduce per dot product).
  double compute_sqnorm(tensor_type const& x0, SqnormOptions const& opt = {}) const {
    linalg::PowerOptions const pw{opt.max_iter, opt.tol};
    if (!opt.local_only) return physics::compute_sqnorm(*this, x0, pw);
    double s = 0;
    for (auto const& op : stack_.operators()) s += physics::compute_sqnorm(op, x0, pw);
    return s;
  }

 private:
  /// The stack's fused normal operator with its filters' spectra, built at the first call (x: a
  /// signal of the stack's layout). Collectives at that call (the filters' transforms).
  auto const& fused_normal(tensor_type const& x) const {
    if (!normal_) normal_ = detail::make_fused(stack_.operators(), x, nullptr);
    return *normal_;
  }
  static std::vector<operator_type> shard_all(std::vector<Op> const& ops, Comm const& comm, RowPartition const& part) {
    std::vector<operator_type> out;
    for (auto const& op : ops) out.push_back(detail::shard_on(op, comm, part));
    return out;
  }

  ShardedStack<operator_type> stack_;
  Shape<4> shape_;
  RowPartition part_;
  bool fused_ = false;
  std::uint64_t seed_ = 0;
  mutable std::uint64_t forward_calls_ = 0;  ///< noise draws so far: not part of the logical state
  mutable std::shared_ptr<physics::fused_normal_t<operator_type> const> normal_;  ///< built at first use
  std::uint64_t id_ = distinv::detail::next_object_id();
};

/// The measurements of a SlabBundle: each rank holds its slab of every measurement y_1 ... y_K
/// (memory K·N/P). A version changes with every update_ (keys the cached fused spectra).
template <class TensorT>
class SlabMeasurements {
 public:
  /// Type of one measurement (a SlabTensor).
  using tensor_type = TensorT;

  /// This rank's slabs of all K measurements, in operator order.
  explicit SlabMeasurements(std::vector<TensorT> items) : items_(std::move(items)) {}

  /// Number of measurements K.
  Index size() const noexcept { return Index(items_.size()); }
  /// This rank's slabs of all measurements (every rank holds every measurement's slab).
  std::vector<TensorT> const& local() const noexcept { return items_.items(); }
  /// The same slabs as a TensorList (the physics' A_adjoint and A_dagger take one), without a copy.
  TensorList<TensorT> const& list() const noexcept { return items_; }
  /// Changes with every update_.
  std::uint64_t version() const noexcept { return version_; }
  /// Unique in the process (cache keys).
  std::uint64_t id() const noexcept { return id_; }

  /// Replaces measurement `index` by `value` (its layout unchanged); every rank calls it with its slab.
  void update_(Index index, TensorT value) {
    DISTINV_REQUIRE(index >= 0 && index < size(), "SlabMeasurements::update_: expected an index in [0, ", size(),
                    "), got ", index);
    items_[std::size_t(index)].require_same_layout(value, "SlabMeasurements::update_");
    items_[std::size_t(index)] = std::move(value);
    version_ = distinv::detail::next_object_id();
  }

 private:
  TensorList<TensorT> items_;
  std::uint64_t version_ = distinv::detail::next_object_id();
  std::uint64_t id_ = distinv::detail::next_object_id();
};

/// The signal of a SlabBundle: each rank its slab (zeros at first).
template <class TensorT>
class SlabSignal {
 public:
  /// The signal's type (a SlabTensor).
  using tensor_type = TensorT;

  /// Starts from x (its layout is the signal's).
  explicit SlabSignal(TensorT x) : x_(std::move(x)) {}
  /// This rank's slab of the current signal.
  TensorT const& data() const noexcept { return x_; }
  /// The global shape.
  Shape<4> shape() const { return x_.shape(); }
  /// Sets the signal to x (the same layout; each rank its slab).
  void update_(TensorT const& x) {
    x_.require_same_layout(x, "SlabSignal::update_");
    x_ = x;
  }
  /// Sets the signal to x, taking its storage (no copy; the old slab is released).
  void update_(TensorT&& x) {
    x_.require_same_layout(x, "SlabSignal::update_");
    x_ = std::move(x);
  }

 private:
  TensorT x_;
};

/// The data fidelity f(x) = Σ_i d(A_i x, y_i) of a SlabBundle. grad takes the fused path — one
/// CircularNormal on SlabFft (S = Σ|K_i|², B = Σ conj(K_i)·F y_i sharded by spectral columns, built once
/// per measurement set, physics and layout) and one distributed FFT pair per call — for a distance
/// of the normal-equation form (L2) over circular blurs; otherwise the general path, the stack's
/// Σ_i A_iᵀ ∇d(A_i x, y_i). Both are split-independent. fn sums the operators' terms (each reduced
/// over the ranks) in operator order. Reduction::mean divides both by K.
template <class Fidelity>
class SlabDataFidelity {
 public:
  /// The distance d (optim::L2, L1, PoissonLikelihood or the user's own DataFidelity).
  using fidelity_type = Fidelity;

  /// The same distance for every operator.
  explicit SlabDataFidelity(Fidelity fidelity = {}, DataFidelityOptions options = {})
      : fidelity_(std::move(fidelity)), options_(options) {}

  /// The distance.
  Fidelity const& fidelity() const noexcept { return fidelity_; }
  /// The options it was made with.
  DataFidelityOptions const& options() const noexcept { return options_; }

  /// Σ_i d(A_i x, y_i) on every rank (a collective).
  template <class Physics, class Measurements>
  double fn(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics) const {
    return physics.stack().fn(fidelity_, x, y.local()) / divisor(physics);
  }

  /// ∇ₓ Σ_i d(A_i x, y_i), laid out as x: the fused or the general path (gradient_path()).
  template <class Physics, class Measurements>
  typename Physics::tensor_type grad(typename Physics::tensor_type const& x, Measurements const& y,
                                     Physics const& physics) {
    using tensor_type = typename Physics::tensor_type;
    tensor_type g = [&] {
      if constexpr (fusable_type<Physics>) {
        if (gradient_path(x, y, physics) == GradientPath::fused) return normal(x, y, physics).grad(x);
      }
      return physics.stack().grad(fidelity_, x, y.local());
    }();
    if (double const d = divisor(physics); d != 1) g *= scalar_t<tensor_type>(1.0 / d);
    return g;
  }

  /// The path grad takes: fused (L2 over circular blurs, options().fused) or general. The same on
  /// every rank (every rank holds every operator); no communication.
  template <class Physics, class Measurements>
  GradientPath gradient_path(typename Physics::tensor_type const& x, Measurements const& y,
                             Physics const& physics) const {
    (void)x, (void)y;
    if constexpr (fusable_type<Physics>)
      if (options_.fused && physics.fused()) return GradientPath::fused;  // tested once, when the physics was made
    return GradientPath::general;
  }

 private:
  template <class Physics>
  static constexpr bool fusable_type =
      optim::has_normal_form<Fidelity> && physics::fused_normal<typename Physics::operator_type>::available;

  template <class Physics>
  double divisor(Physics const& physics) const {
    return options_.reduction == Reduction::mean ? double(physics.num_operators()) : 1.0;
  }

  /// The fused normal equations of (y, physics, x's layout), built at the first call and kept
  /// (collectives: the distributed transforms of the filters and measurements).
  template <class Physics, class Measurements>
  auto const& normal(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics) {
    using Normal = typename physics::fused_normal<typename Physics::operator_type>::type;
    Key key{y.id(), y.version(), physics.id(), x.shape(), x.partition().offsets()};
    if (!fused_ || !(key_ == key)) {
      fused_.reset();
      auto const& ops = physics.stack().operators();
      DISTINV_REQUIRE(y.local().size() == ops.size(), "SlabDataFidelity::grad: expected ", ops.size(),
                      " measurements (one per operator), got ", y.local().size());
      fused_ = detail::make_fused(ops, x, &y.local());
      key_ = std::move(key);
    }
    return *std::static_pointer_cast<Normal const>(fused_);
  }

  struct Key {
    std::uint64_t measurements = 0, version = 0, physics = 0;
    Shape<4> shape{};
    std::vector<Index> rows;
    bool operator==(Key const&) const = default;
  };

  Fidelity fidelity_;
  DataFidelityOptions options_;
  Key key_;
  std::shared_ptr<void const> fused_;  ///< the cached CircularNormal on slabs, or null
};

/// What make_distrib_bundle<layout::Slabs> builds: the physics, measurements, data fidelity, signal
/// and tiled prior of a reconstruction in the slab layout (rank r holds rows [lo_r, hi_r) of the
/// signal and of every measurement), ready for the solvers of optim/solvers.hpp.
template <class Ctx, class Op, class Fidelity, class Prior, tiling::SignalStrategy Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact>
struct SlabBundle {
  /// The physics on slabs.
  using physics_type = SlabStackedPhysics<Op, typename Ctx::comm_type>;
  /// The signal type (a SlabTensor).
  using tensor_type = typename physics_type::tensor_type;
  /// Element type.
  using scalar_type = scalar_t<tensor_type>;
  /// The tiling strategy of the prior.
  using strategy_type = Strategy;
  /// The tiled prior on slabs.
  using prior_type = SlabPrior<Ctx, Prior, Strategy, Reduce>;
  /// True when the bundle has a prior.
  static constexpr bool has_prior = !std::is_same_v<Prior, NoPrior>;

  /// The operators on slabs.
  physics_type physics;
  /// Each rank's slabs of every measurement.
  SlabMeasurements<tensor_type> measurements;
  /// The data fidelity (fused or general gradient).
  SlabDataFidelity<Fidelity> data_fidelity;
  /// The signal, each rank its slab (zeros at first).
  SlabSignal<tensor_type> signal;
  std::unique_ptr<prior_type> prior;  ///< null for a bundle without prior
};

/// The physics on slabs of `ops` for a signal of shape `signal_shape` laid out by `part` (default:
/// balanced), forward's noise from the context's seed; throws Error (`what` names the caller) for no
/// operator, an empty shape or a bad partition (an operator without a slab path does not compile). No
/// communication: callers run it in ctx.collectively.
template <class Ctx, class Op>
SlabStackedPhysics<Op, typename Ctx::comm_type> make_slab_physics(Ctx& ctx, std::vector<Op> const& ops,
                                                                  Shape<4> const& signal_shape,
                                                                  std::optional<RowPartition> const& part,
                                                                  char const* what) {
  DISTINV_REQUIRE(!ops.empty(), what, ": expected at least one operator, got 0");
  for (auto d : signal_shape) DISTINV_REQUIRE(d > 0, what, ": expected a non-empty signal shape, got ", to_string(signal_shape));
  RowPartition rows = part ? *part : RowPartition::balanced(signal_shape[2], ctx.world_size());
  return SlabStackedPhysics<Op, typename Ctx::comm_type>(ops, ctx.comm(), signal_shape, std::move(rows),
                                                         ctx.options().seed);
}

/// Builds a SlabBundle (make_distrib_bundle<layout::Slabs> calls it): the operators `ops` on slabs,
/// each rank's slabs `y` of their measurements (kept: moved in, not copied), the distance `fidelity`, a zero signal of shape
/// `signal_shape` laid out by `part` (default: balanced), and the prior tiled by a Strategy built
/// with `tiling`'s options (or no prior: NoPrior). Throws the same Error on every rank for a
/// measurement count, shape or layout that does not match the operators.
template <tiling::StrategyFromOptions Strategy = tiling::OverlapTilingStrategy<4>, ReductionPolicy Reduce = reduce::Exact,
          class Ctx, class Op, class Fidelity, class Prior>
  requires(Strategy::rank == 4)
auto make_slab_bundle(Ctx& ctx, std::vector<Op> const& ops, TensorList<SlabTensor<typename Op::scalar_type, 4,
                                                                                  typename Ctx::comm_type>> y,
                      Fidelity fidelity, Shape<4> const& signal_shape, Prior prior, tiling::TilingOptions const& options,
                      tiling::BatchLimit limit, std::optional<RowPartition> part = std::nullopt) {
  using Bundle = SlabBundle<Ctx, Op, Fidelity, Prior, Strategy, Reduce>;
  using tensor_type = typename Bundle::tensor_type;
  constexpr char const* what = "make_distrib_bundle<layout::Slabs>";
  auto physics = ctx.collectively(what, [&] {
    DISTINV_REQUIRE(ops.empty() || y.size() == ops.size(), what, ": expected ", ops.size(),
                    " measurements (one per operator), got ", y.size());
    typename Bundle::physics_type p = make_slab_physics(ctx, ops, signal_shape, part, what);
    RowPartition const& rows = p.partition();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      auto const& op = p.stack().operators()[i];
      Shape<4> const out = op.output_shape(signal_shape);
      RowPartition const laid = op.output_partition(signal_shape, rows);
      DISTINV_REQUIRE(y[i].shape() == out && y[i].partition() == laid, what, ": measurement ", i, " has shape ",
                      to_string(y[i].shape()), " laid out as ", y[i].partition().to_string(), ", expected ",
                      to_string(out), " laid out as ", laid.to_string(), " (operator ", i, "'s output)");
    }
    return p;
  });
  RowPartition const rows = physics.partition();
  Bundle b{std::move(physics), SlabMeasurements<tensor_type>(std::move(y.items())), SlabDataFidelity<Fidelity>(std::move(fidelity)),
           SlabSignal<tensor_type>(tensor_type::zeros(ctx.comm(), signal_shape, rows)), nullptr};
  if constexpr (Bundle::has_prior) b.prior = std::make_unique<typename Bundle::prior_type>(ctx, std::move(prior), options, limit);
  return b;
}

}  // namespace distinv::layout
