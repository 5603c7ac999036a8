#pragma once
// comm/mpi.hpp: MPI ranks. In-place MPI_Allreduce in pieces (one 64 MiB reduction is many
// times slower than the same data in a few MiB pieces with OpenMPI), MPI_Allgatherv,
// MPI_Alltoallv, MPI_Bcast. MPI is initialised by the first Mpi session if nobody has, and finalised only
// by the session that initialised it. device_aware() tells whether this MPI takes CUDA device
// pointers (Open MPI's MPIX_Query_cuda_support); device signals then skip host staging.
// Its communicators return MPI errors (MPI_ERRORS_RETURN) and every call turns an error into
// distinv::Error, so that distinv's own failure handling runs. Include through distinv/mpi.hpp.
#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <type_traits>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/comm/traits.hpp"
#include "distinv/core/error.hpp"

namespace distinv::comm {

namespace detail {
template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, int>) return MPI_INT;
  else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, std::byte>) return MPI_BYTE;
  else static_assert(sizeof(T) == 0, "distinv::comm::Mpi: unsupported element type");
}
inline MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
    default: return MPI_SUM;
  }
}
inline void check(int code, char const* what) {
  if (code != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    fail(what, " failed: ", std::string(msg, std::size_t(len)));
  }
}
}  // namespace detail

/// Keeps MPI initialised while alive; finalises it at the end only if it initialised it.
class MpiSession {
 public:
  /// Initialises MPI (MPI_THREAD_FUNNELED) unless it already is; throws Error if MPI was already finalised.
  MpiSession(int* argc, char*** argv) {
    int done = 0;
    MPI_Finalized(&done);
    DISTINV_REQUIRE(!done, "Mpi: MPI was already finalised and cannot be initialised again");
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
      int provided = 0;
      detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
  }
  MpiSession(MpiSession const&) = delete;
  MpiSession& operator=(MpiSession const&) = delete;
  ~MpiSession() {
    int done = 0;
    MPI_Finalized(&done);
    if (owns_ && !done) MPI_Finalize();
  }

 private:
  bool owns_ = false;
};

/// The MPI backend: the ranks of an MPI communicator (duplicated, so that distinv's messages never mix with the
/// caller's). All-reduces and broadcasts go in pieces of piece_bytes(). MPI errors are returned, not fatal, and
/// thrown as Error.
class Mpi {
 public:
  /// Largest piece of one MPI_Allreduce / MPI_Bcast call, in bytes (see benchmarks/README.md).
  static constexpr std::size_t default_piece_bytes = std::size_t(4) << 20;

  /// The ranks of `comm` (MPI must be initialised: hold an MpiSession, or use launch).
  explicit Mpi(MPI_Comm comm = MPI_COMM_WORLD, std::size_t piece_bytes = default_piece_bytes)
      : piece_bytes_(std::max<std::size_t>(piece_bytes, 1024)) {
    int ready = 0;
    MPI_Initialized(&ready);
    DISTINV_REQUIRE(ready, "Mpi: MPI is not initialised; create a distinv::comm::MpiSession first or use launch");
    comm_ = duplicate(comm);
    agree_ = duplicate(comm);
    detail::check(MPI_Comm_rank(*comm_, &rank_), "MPI_Comm_rank");
    detail::check(MPI_Comm_size(*comm_, &size_), "MPI_Comm_size");
  }

  /// "mpi".
  static constexpr std::string_view name() { return "mpi"; }
  /// This rank, in [0, size()).
  int rank() const noexcept { return rank_; }
  /// Number of ranks of the communicator.
  int size() const noexcept { return size_; }
  /// The (duplicated) MPI communicator, for the caller's own MPI calls.
  MPI_Comm native() const noexcept { return *comm_; }
  /// Largest piece of one collective call, in bytes (at least 1024).
  std::size_t piece_bytes() const noexcept { return piece_bytes_; }
  /// True when this MPI library accepts CUDA device pointers in its collectives.
  static bool device_aware() {
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
    return MPIX_Query_cuda_support() == 1;
#else
    return false;
#endif
  }

  /// In-place MPI_Allreduce of `buf` with `op`, in pieces of piece_bytes(). See CommBackend.
  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op) const {
    if (size_ == 1) return;
    for_pieces<T>(buf.size(), [&](std::size_t off, int n) {
      detail::check(MPI_Allreduce(MPI_IN_PLACE, buf.data() + off, n, detail::mpi_type<T>(), detail::mpi_op(op), *comm_),
                    "MPI_Allreduce");
    });
    if (op == ReduceOp::mean)
      for (auto& v : buf) v /= T(size_);
  }

  /// MPI_Bcast of `buf` from `root`, in pieces. See CommBackend.
  template <class T>
  void broadcast(std::span<T> buf, int root) const {
    check_root("broadcast", root);
    if (size_ == 1) return;
    for_pieces<T>(buf.size(), [&](std::size_t off, int n) {
      detail::check(MPI_Bcast(buf.data() + off, n, detail::mpi_type<T>(), root, *comm_), "MPI_Bcast");
    });
  }

  /// MPI_Allgatherv: rank r's `send` (counts[r] elements) lands in block r of `recv`. Throws Error for
  /// inconsistent counts.
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    DISTINV_REQUIRE(counts.size() == std::size_t(size_) && Index(send.size()) == counts[std::size_t(rank_)],
                    "all_gatherv on rank ", rank_, ": expected ", size_, " counts with count[", rank_,
                    "] equal to the send size ", send.size(), ", got ", counts.size(), " counts");
    std::vector<int> cnt(static_cast<std::size_t>(size_)), displ(static_cast<std::size_t>(size_));
    Index total = 0;
    for (int q = 0; q < size_; ++q) {
      DISTINV_REQUIRE(counts[std::size_t(q)] >= 0 && counts[std::size_t(q)] <= INT_MAX && total <= INT_MAX,
                      "all_gatherv: counts must lie in [0, INT_MAX]");
      cnt[std::size_t(q)] = int(counts[std::size_t(q)]);
      displ[std::size_t(q)] = int(total);
      total += counts[std::size_t(q)];
    }
    DISTINV_REQUIRE(Index(recv.size()) == total, "all_gatherv: expected a receive buffer of ", total,
                    " elements, got ", recv.size());
    detail::check(MPI_Allgatherv(send.data(), int(send.size()), detail::mpi_type<T>(), recv.data(), cnt.data(),
                                 displ.data(), detail::mpi_type<T>(), *comm_),
                  "MPI_Allgatherv");
  }

  /// MPI_Alltoallv: block q of `send` to rank q, rank q's block into block q of `recv`. Throws Error for
  /// inconsistent counts.
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    auto const sc = int_counts("all_to_allv (send)", send_counts, send.size());
    auto const rc = int_counts("all_to_allv (receive)", recv_counts, recv.size());
    detail::check(MPI_Alltoallv(send.data(), sc.counts.data(), sc.displs.data(), detail::mpi_type<T>(), recv.data(),
                                rc.counts.data(), rc.displs.data(), detail::mpi_type<T>(), *comm_),
                  "MPI_Alltoallv");
  }

  /// Broadcasts a byte vector from `root`; the other ranks' `bytes` are resized to the root's length.
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const {
    std::int64_t n = std::int64_t(bytes.size());
    broadcast(std::span<std::int64_t>(&n, 1), root);
    bytes.resize(std::size_t(n));
    broadcast(std::span<std::byte>(bytes), root);
  }

  /// MPI_Barrier.
  void barrier() const { detail::check(MPI_Barrier(*comm_), "MPI_Barrier"); }

  /// Non-blocking barrier with a deadline: true if every rank arrived in time. Used after a
  /// failure to tell "every rank failed alike" (clean exit) from "some rank is still busy
  /// elsewhere" (abort). Runs on its own communicator so it never matches other collectives.
  bool barrier_within(std::chrono::milliseconds timeout) const {
    MPI_Request req;
    detail::check(MPI_Ibarrier(*agree_, &req), "MPI_Ibarrier");
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    int done = 0;
    while (!done) {
      detail::check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) break;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  static std::shared_ptr<MPI_Comm> duplicate(MPI_Comm comm) {
    MPI_Comm dup = MPI_COMM_NULL;
    detail::check(MPI_Comm_dup(comm, &dup), "MPI_Comm_dup");
    detail::check(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    return std::shared_ptr<MPI_Comm>(new MPI_Comm(dup), [](MPI_Comm* c) {
      int done = 0;
      MPI_Finalized(&done);
      if (!done) MPI_Comm_free(c);
      delete c;
    });
  }
  template <class T, class F>
  void for_pieces(std::size_t n, F&& f) const {
    std::size_t const piece = std::max<std::size_t>(1, std::min<std::size_t>(piece_bytes_ / sizeof(T), INT_MAX));
    for (std::size_t off = 0; off < n; off += piece) f(off, int(std::min(piece, n - off)));
  }
  struct IntCounts {
    std::vector<int> counts, displs;
  };
  /// Counts and displacements as MPI's ints, checked: one per rank, in int range, summing to n.
  IntCounts int_counts(char const* what, std::span<Index const> counts, std::size_t n) const {
    DISTINV_REQUIRE(counts.size() == std::size_t(size_), what, " on rank ", rank_, ": expected ", size_,
                    " counts, got ", counts.size());
    IntCounts out{std::vector<int>(counts.size()), std::vector<int>(counts.size())};
    Index total = 0;
    for (std::size_t q = 0; q < counts.size(); ++q) {
      DISTINV_REQUIRE(counts[q] >= 0 && counts[q] <= INT_MAX && total <= INT_MAX, what,
                      ": counts and displacements must lie in [0, INT_MAX], got ", counts[q], " at ", total);
      out.counts[q] = int(counts[q]);
      out.displs[q] = int(total);
      total += counts[q];
    }
    DISTINV_REQUIRE(Index(n) == total, what, ": expected a buffer of ", total, " elements, got ", n);
    return out;
  }
  void check_root(char const* what, int root) const {
    DISTINV_REQUIRE(root >= 0 && root < size_, what, ": expected a root in [0, ", size_, "), got ", root);
  }

  std::shared_ptr<MPI_Comm> comm_, agree_;  // agree_: only for barrier_within
  std::size_t piece_bytes_;
  int rank_ = 0, size_ = 1;
};
static_assert(CommBackend<Mpi>);

}  // namespace distinv::comm

namespace distinv {
/// A CUDA-aware MPI takes device pointers in its collectives (asked of the library at run time).
template <>
struct comm_traits<comm::Mpi> : default_comm_traits {
  /// True when the MPI library takes CUDA device pointers (queried at run time).
  static bool device_aware(comm::Mpi const&) { return comm::Mpi::device_aware(); }
};
}  // namespace distinv
