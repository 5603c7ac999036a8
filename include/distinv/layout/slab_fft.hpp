#pragma once
// layout/slab_fft.hpp: SlabFft<T, Comm, Fft>, the unnormalised 2-D real FFT of every (B, C)
// plane of a SlabTensor, over any CommBackend: 1-D r2c transforms of the rank's rows (along W),
// one all_to_allv transpose (of the blocks for the other ranks: a rank's own block is written
// where its columns read it), 1-D complex transforms of the rank's spectral columns (along H);
// the inverse retraces it. The half spectrum (H x (W/2 + 1) per plane) is sharded by columns:
// rank r holds columns [col_lo(r), col_hi(r)) (balanced; none when W/2 + 1 < P) of every row,
// column by column: spectrum index e = plane * plane_spectrum() + (col - col_lo) * H + row.
// filter / analyse / synthesise are the engine interface of fft/engine.hpp on that index, so the
// spectral functors of core/kernels/ run unchanged on a shard. Memory per rank O(N / P): no
// rank ever holds a whole plane. The line transforms are the engine's (Fft::lines, FFTW).
// SlabFftEngine is this interface (FftwMpiSlabFft has it too): the real slab FFTs are engines of
// physics::CircularNormal (the fused normal operator of circular blurs on slabs, S and B sharded
// as the spectrum; circular_engine is specialised here).
// SlabComplexFft (SlabFft<..., true>) is the complex c2c transform of complex signals held as
// deepinv holds them, (B, 2, H, W) with channels (real, imaginary): the same transposes, c2c rows,
// the full spectrum (W columns) sharded by columns, centred and orthonormal on request
// (fft::ComplexFftOptions, as fft::ComplexFft, its replicated counterpart).
#include <algorithm>
#include <concepts>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/device.hpp"
#include "distinv/fft/complex_fft.hpp"
#include "distinv/fft/fftw.hpp"
#include "distinv/host/space.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"

namespace distinv::layout {

/// n items over p ranks, the first n % p ranks one more; ranks may get none (unlike RowPartition).
inline std::vector<Index> balanced_offsets(Index n, int p) {
  std::vector<Index> o(std::size_t(p) + 1, 0);
  for (int r = 0; r < p; ++r) o[std::size_t(r) + 1] = o[std::size_t(r)] + n / p + (r < n % p ? 1 : 0);
  return o;
}

/// A slab-decomposed 2-D real FFT over `Comm` with SlabFft's interface: made from (comm, H, W,
/// RowPartition), signals SlabTensor<T, 4, Comm>, this rank's shard of every plane's half
/// spectrum plane_spectrum() coefficients indexed as SlabFft's, forward / analyse / filter /
/// synthesise collectives with the spectral functors of core/kernels/ (SlabFft, FftwMpiSlabFft).
template <class E, class T, class Comm>
concept SlabFftEngine =
    std::same_as<typename E::tensor_type, SlabTensor<T, 4, Comm>> &&
    std::same_as<typename E::spectrum_type, host::Buffer<kernels::Complex<T>>> &&
    std::constructible_from<E, Comm, Index, Index, RowPartition> &&
    requires(E const& e, SlabTensor<T, 4, Comm> const& x, SlabTensor<T, 4, Comm>& y) {
      { e.plane_spectrum() } -> std::convertible_to<Index>;
      { e.partition() } -> std::convertible_to<RowPartition const&>;
      { e.comm() } -> std::convertible_to<Comm const&>;
      { e.forward(x) } -> std::same_as<host::Buffer<kernels::Complex<T>>>;
      e.analyse(x, kernels::StoreSpectrum<T>{nullptr});
      e.filter(x, y, kernels::NormalResidual<T>{});
      e.synthesise(kernels::ScaledSpectrum<T>{nullptr, T(1)}, y);
    };

/// The unnormalised 2-D real FFT of every (B, C) plane of a SlabTensor<T, 4, Comm>, its half
/// spectrum sharded by columns (see the file's comment); built from the line transforms of the
/// engine `Fft` (Fft::lines). Copies share the plans. Every transform is a collective.
/// Complex: the 2-D complex FFT of every (real, imaginary) pair of planes of a (B, 2, H, W)
/// SlabTensor, its full spectrum (H x W per pair, W columns sharded) indexed the same way with
/// planes the B pairs; centred and orthonormal as its fft::ComplexFftOptions say (filter,
/// analyse and synthesise stay unnormalised; forward and inverse are normalised as the options
/// say, as fft::ComplexFft).
template <class T, CommBackend Comm, class Fft = fft::default_engine_t<device::Host>, bool Complex = false>
  requires(Fft::available && requires { typename Fft::template lines<T>; })
class SlabFft {
 public:
  using scalar_type = T;                             ///< float or double
  using fft_type = Fft;                              ///< the engine of the line transforms (and of the blurs fused)
  using complex_type = kernels::Complex<T>;          ///< a coefficient
  using tensor_type = SlabTensor<T, 4, Comm>;        ///< the signals transformed
  using spectrum_type = host::Buffer<complex_type>;  ///< a rank's shard of spectra

  static constexpr bool complex_input = Complex;     ///< SlabComplexFft: (B, 2, H, W) complex signals

  /// Transforms of H x W planes laid out by `part` (rows of H over comm's ranks); `options`
  /// (centring, orthonormal) for the complex transform only.
  SlabFft(Comm comm, Index rows, Index cols, RowPartition part, fft::ComplexFftOptions options = {})
      : comm_(std::move(comm)), rows_(rows), cols_(cols), part_(std::move(part)), options_(options) {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "SlabFft: expected a positive grid, got ", rows, " x ", cols);
    DISTINV_REQUIRE(part_.ranks() == comm_.size() && part_.rows() == rows, "SlabFft: expected a partition of ", rows,
                    " rows over ", comm_.size(), " ranks, got ", part_.to_string());
    DISTINV_REQUIRE(Complex || (!options.centred && !options.orthonormal),
                    "SlabFft: centred and orthonormal are options of the complex transform (SlabComplexFft)");
    col_offsets_ = balanced_offsets(spectrum_cols(), comm_.size());
    lines_ = std::make_shared<lines_type const>(cols, rows);
    row_lines_ = Complex ? std::make_shared<lines_type const>(cols, cols) : lines_;
  }

  Index rows() const noexcept { return rows_; }  ///< H
  Index cols() const noexcept { return cols_; }  ///< W
  /// W/2 + 1: the columns of the half spectrum (W for the complex transform: the full spectrum).
  Index spectrum_cols() const noexcept { return Complex ? cols_ : cols_ / 2 + 1; }
  fft::ComplexFftOptions const& options() const noexcept { return options_; }  ///< centring and norm (complex)
  RowPartition const& partition() const noexcept { return part_; }  ///< the signals' rows per rank
  Comm const& comm() const noexcept { return comm_; }                ///< the backend
  Index col_lo(int r) const { return col_offsets_[std::size_t(r)]; }      ///< rank r's first spectral column
  Index col_hi(int r) const { return col_offsets_[std::size_t(r) + 1]; }  ///< one past rank r's last
  /// Spectral columns of this rank (0 when W/2 + 1 < P for some ranks).
  Index local_cols() const { return col_hi(me()) - col_lo(me()); }
  /// Coefficients of one plane on this rank: local_cols() * H.
  Index plane_spectrum() const { return local_cols() * rows_; }
  /// The index in a plane's shard of coefficient (row, col), col in [col_lo, col_hi) of this rank.
  Index spectrum_index(Index row, Index col) const { return (col - col_lo(me())) * rows_ + row; }

  /// out = F⁻¹(f(F in)) plane by plane; f(e, complex_type& v) for every coefficient of this
  /// rank's shard. `out` may be `in`. A collective.
  template <class F>
  void filter(tensor_type const& in, tensor_type& out, F const& f) const {
    check(in, "SlabFft::filter");
    in.require_same_layout(out, "SlabFft::filter (output)");
    Index const planes = planes_of(in);
    Sides sides = transform_rows(in);
    to_columns(sides, planes);
    each_column(planes, [&](Index base, complex_type* line) {
      gather_column(sides.col, planes, base, line);
      transform_line(*lines_, line, rows_, false);
      for (Index i = 0; i < rows_; ++i) f(base + i, line[i]);
      transform_line(*lines_, line, rows_, true);
      scatter_column(line, planes, base, sides.col);
    });
    to_rows(sides, planes);
    synthesise_rows(sides, out);
  }
  /// f(e, complex_type const& v) for every coefficient of this rank's shard of F in. A collective.
  template <class F>
  void analyse(tensor_type const& in, F const& f) const {
    check(in, "SlabFft::analyse");
    Index const planes = planes_of(in);
    Sides sides = transform_rows(in);
    to_columns(sides, planes);
    sides.row = spectrum_type();  // no way back: the row side is free
    each_column(planes, [&](Index base, complex_type* line) {
      gather_column(sides.col, planes, base, line);
      transform_line(*lines_, line, rows_, false);
      for (Index i = 0; i < rows_; ++i) f(base + i, std::as_const(line[i]));
    });
  }
  /// out = F⁻¹(g) plane by plane, g(e) the coefficient e of this rank's shard. A collective.
  template <class G>
  void synthesise(G const& g, tensor_type& out) const {
    check(out, "SlabFft::synthesise");
    Index const planes = planes_of(out);
    Sides sides = make_sides(planes);
    each_column(planes, [&](Index base, complex_type* line) {
      for (Index i = 0; i < rows_; ++i) line[i] = g(base + i);
      transform_line(*lines_, line, rows_, true);
      scatter_column(line, planes, base, sides.col);
    });
    to_rows(sides, planes);
    synthesise_rows(sides, out);
  }

  /// This rank's shard of F x: planes * plane_spectrum() coefficients (planes: B · C, or the B
  /// complex planes; scaled by 1/sqrt(H W) when orthonormal). A collective.
  spectrum_type forward(tensor_type const& x) const {
    spectrum_type s(std::size_t(planes_of(x) * plane_spectrum()));
    T const c = scale(false);
    if (c == T(1)) analyse(x, kernels::StoreSpectrum<T>{s.data()});
    else analyse(x, [&](Index e, complex_type const& v) { s[std::size_t(e)] = {c * v.re, c * v.im}; });
    return s;
  }
  /// out = F⁻¹(spectrum), spectrum this rank's shard; real: unnormalised (F⁻¹F = H W); complex:
  /// normalised as the options say (F⁻¹F = I). A collective.
  void inverse(spectrum_type const& spectrum, tensor_type& out) const {
    DISTINV_REQUIRE(Index(spectrum.size()) == planes_of(out) * plane_spectrum(), "SlabFft::inverse: expected ",
                    planes_of(out) * plane_spectrum(), " coefficients on rank ", me(), ", got ", spectrum.size());
    synthesise(kernels::ScaledSpectrum<T>{spectrum.data(), scale(true)}, out);
  }

 private:
  using lines_type = typename Fft::template lines<T>;
  /// Rows handled together by one task, so that the transpose writes runs of this many.
  static constexpr Index row_block = 16;
  /// Line strides of the scratch buffers, rounded up to 64 bytes so that every line is aligned.
  static constexpr Index padded(Index n, std::size_t elem) {
    Index const per = Index(host::Buffer<T>::alignment / elem);
    return (n + per - 1) / per * per;
  }

  int me() const { return comm_.rank(); }
  Index local_rows() const { return part_.count(me()); }
  /// The spectra of x: one per (B, C) plane, or one per complex plane (B).
  static Index planes_of(tensor_type const& x) { return Complex ? x.shape()[0] : x.planes(); }
  /// The factor of forward (or inverse) and inverse: 1 for the real transform.
  T scale(bool inverse) const {
    return Complex ? T(fft::detail::complex_fft_scale(options_, rows_ * cols_, inverse)) : T(1);
  }
  /// line = F(line) (or the unnormalised F⁻¹) of n points, between ifftshift and fftshift when centred.
  void transform_line(lines_type const& lines, complex_type* line, Index n, bool backward) const {
    bool const centred = Complex && options_.centred;
    if (centred) std::rotate(line, line + n / 2, line + n);  // ifftshift
    if (backward) lines.backward(line);
    else lines.forward(line);
    if (centred) std::rotate(line, line + (n - n / 2), line + n);  // fftshift
  }

  void check(tensor_type const& x, char const* what) const {
    DISTINV_REQUIRE(!Complex || x.shape()[1] == 2, what, ": expected a complex signal (B, 2, H, W), got ",
                    distinv::to_string(x.shape()));
    DISTINV_REQUIRE(x.shape()[2] == rows_ && x.shape()[3] == cols_, what, ": expected planes of ", rows_, " x ", cols_,
                    ", got ", distinv::to_string(x.shape()));
    DISTINV_REQUIRE(x.partition() == part_, what, ": expected the row partition ", part_.to_string(), ", got ",
                    x.partition().to_string());
  }

  // Block (q, r): rank q's spectral columns of rank r's rows, laid out (plane, col - col_lo(q),
  // row - lo(r)). The row side of rank r holds the blocks (q, r) of the other ranks q in rank
  // order; its column side holds the blocks (r, q) of the other ranks q in rank order, then its
  // own block (r, r), which transform_rows writes and synthesise_rows reads where it lies. The
  // transpose moves block (q, r) from rank r's row side to rank q's column side and back: only
  // the other ranks' blocks travel (all_to_allv with no count for the rank itself).
  struct Sides {
    spectrum_type row, col;
  };
  Sides make_sides(Index planes) const {
    return {spectrum_type(std::size_t(planes * local_rows() * (spectrum_cols() - local_cols()))),
            spectrum_type(std::size_t(planes * plane_spectrum()))};
  }
  /// Where block (q, me) of the row side starts (q != me), and q's rows in the column side.
  Index row_block_at(int q, Index planes) const {
    return planes * local_rows() * (col_lo(q) - (q > me() ? local_cols() : 0));
  }
  Index col_block_at(int q, Index planes) const {
    if (q == me()) return planes * local_cols() * (rows_ - local_rows());
    return planes * local_cols() * (part_.lo(q) - (q > me() ? local_rows() : 0));
  }
  /// Block (q, me): in the row side, or this rank's own in the column side.
  complex_type* block_of(Sides& sides, int q, Index planes) const {
    return q == me() ? sides.col.data() + col_block_at(q, planes) : sides.row.data() + row_block_at(q, planes);
  }

  /// f(plane, first local row, rows) for blocks of up to row_block rows of every plane, in
  /// parallel; scratch: row_block lines of reals and of half-spectrum coefficients per task.
  template <class F>
  void each_row_block(Index planes, F&& f) const {
    Index const h = local_rows(), blocks = (h + row_block - 1) / row_block;
    tbb::parallel_for(tbb::blocked_range<Index>(0, planes * blocks), [&](tbb::blocked_range<Index> const& range) {
      host::Buffer<T> re(std::size_t(row_block * padded(cols_, sizeof(T))));
      host::Buffer<complex_type> sp(std::size_t(row_block * padded(spectrum_cols(), sizeof(complex_type))));
      for (Index b = range.begin(); b != range.end(); ++b) {
        Index const pl = b / blocks, r0 = (b % blocks) * row_block;
        f(pl, r0, std::min(row_block, h - r0), re.data(), sp.data());
      }
    });
  }

  /// r2c (complex: c2c) of every local row, packed for the transpose (the row side and the own block).
  Sides transform_rows(tensor_type const& x) const {
    Index const planes = planes_of(x), h = local_rows(), wr = padded(cols_, sizeof(T)),
                wc = padded(spectrum_cols(), sizeof(complex_type));
    Sides sides = make_sides(planes);
    each_row_block(planes, [&](Index pl, Index r0, Index n, T* re, complex_type* sp) {
      for (Index i = 0; i < n; ++i) {
        if constexpr (Complex) {  // the row's real and imaginary parts: planes 2 pl and 2 pl + 1
          T const* real = x.local().data() + (2 * pl * h + r0 + i) * cols_;
          T const* imag = real + h * cols_;
          complex_type* line = sp + i * wc;
          for (Index k = 0; k < cols_; ++k) line[k] = {real[k], imag[k]};
          transform_line(*row_lines_, line, cols_, false);
          continue;
        }
        T const* src = x.local().data() + (pl * h + r0 + i) * cols_;
        if (!lines_->aligned(src)) {
          std::copy_n(src, cols_, re + i * wr);
          src = re + i * wr;
        }
        lines_->r2c(src, sp + i * wc);
      }
      for (int q = 0; q < comm_.size(); ++q) {
        Index const c0 = col_lo(q), nq = col_hi(q) - c0;
        complex_type* block = block_of(sides, q, planes);
        for (Index c = c0; c < c0 + nq; ++c) {
          complex_type* dst = block + (pl * nq + c - c0) * h + r0;
          for (Index i = 0; i < n; ++i) dst[i] = sp[i * wc + c];
        }
      }
    });
    return sides;
  }

  /// c2r (complex: c2c) of every local row from the row side and the own block into `out`.
  void synthesise_rows(Sides& sides, tensor_type& out) const {
    Index const planes = planes_of(out), h = local_rows(), wr = padded(cols_, sizeof(T)),
                wc = padded(spectrum_cols(), sizeof(complex_type));
    each_row_block(planes, [&](Index pl, Index r0, Index n, T* re, complex_type* sp) {
      for (int q = 0; q < comm_.size(); ++q) {
        Index const c0 = col_lo(q), nq = col_hi(q) - c0;
        complex_type const* block = block_of(sides, q, planes);
        for (Index c = c0; c < c0 + nq; ++c) {
          complex_type const* src = block + (pl * nq + c - c0) * h + r0;
          for (Index i = 0; i < n; ++i) sp[i * wc + c] = src[i];
        }
      }
      for (Index i = 0; i < n; ++i) {
        if constexpr (Complex) {
          T* real = out.local().data() + (2 * pl * h + r0 + i) * cols_;
          T* imag = real + h * cols_;
          complex_type* line = sp + i * wc;
          transform_line(*row_lines_, line, cols_, true);
          for (Index k = 0; k < cols_; ++k) {
            real[k] = line[k].re;
            imag[k] = line[k].im;
          }
          continue;
        }
        T* dst = out.local().data() + (pl * h + r0 + i) * cols_;
        if (lines_->aligned(dst)) {
          lines_->c2r(sp + i * wc, dst);
        } else {
          lines_->c2r(sp + i * wc, re + i * wr);
          std::copy_n(re + i * wr, cols_, dst);
        }
      }
    });
  }

  /// body(base, line) for every local column of every plane (base: the spectrum index of its
  /// row 0), in parallel, `line` an aligned scratch of H coefficients.
  template <class F>
  void each_column(Index planes, F&& body) const {
    Index const n = local_cols();
    tbb::parallel_for(tbb::blocked_range<Index>(0, planes * n), [&](tbb::blocked_range<Index> const& range) {
      host::Buffer<complex_type> line{std::size_t(rows_)};
      for (Index k = range.begin(); k != range.end(); ++k) body(k * rows_, line.data());
    });
  }
  /// The column whose row 0 is spectrum index `base`, from the blocks of every rank.
  void gather_column(spectrum_type const& col_side, Index planes, Index base, complex_type* line) const {
    Index const k = base / rows_;  // plane * local_cols + local col
    for (int q = 0; q < comm_.size(); ++q)
      std::copy_n(col_side.data() + col_block_at(q, planes) + k * part_.count(q), part_.count(q), line + part_.lo(q));
  }
  void scatter_column(complex_type const* line, Index planes, Index base, spectrum_type& col_side) const {
    Index const k = base / rows_;
    for (int q = 0; q < comm_.size(); ++q)
      std::copy_n(line + part_.lo(q), part_.count(q), col_side.data() + col_block_at(q, planes) + k * part_.count(q));
  }

  /// The transpose: the row side's blocks to the other ranks' column sides (see Sides).
  void to_columns(Sides& sides, Index planes) const {
    exchange(sides.row, [&](int q) { return planes * local_rows() * (col_hi(q) - col_lo(q)); }, sides.col,
             [&](int q) { return planes * local_cols() * part_.count(q); });
  }
  /// Its inverse: the column side's blocks of the other ranks back to their row sides.
  void to_rows(Sides& sides, Index planes) const {
    exchange(sides.col, [&](int q) { return planes * local_cols() * part_.count(q); }, sides.row,
             [&](int q) { return planes * local_rows() * (col_hi(q) - col_lo(q)); });
  }
  /// all_to_allv of the other ranks' blocks, send and recv starting with them (rank order); no
  /// count for this rank, whose own block stays in the column side. Nothing to do on one rank.
  template <class SendCount, class RecvCount>
  void exchange(spectrum_type const& send, SendCount send_count, spectrum_type& recv, RecvCount recv_count) const {
    int const p = comm_.size();
    if (p == 1) return;
    std::vector<Index> sc(static_cast<std::size_t>(p)), rc(static_cast<std::size_t>(p));
    Index sent = 0, received = 0;
    for (int q = 0; q < p; ++q) {  // complex coefficients travel as pairs of reals
      if (q == me()) continue;
      sc[std::size_t(q)] = 2 * send_count(q);
      rc[std::size_t(q)] = 2 * recv_count(q);
      sent += sc[std::size_t(q)];
      received += rc[std::size_t(q)];
    }
    comm_.all_to_allv(std::span<T const>(reinterpret_cast<T const*>(send.data()), std::size_t(sent)),
                      std::span<Index const>(sc), std::span<T>(reinterpret_cast<T*>(recv.data()), std::size_t(received)),
                      std::span<Index const>(rc));
  }

  Comm comm_;
  Index rows_, cols_;
  RowPartition part_;
  fft::ComplexFftOptions options_;
  std::vector<Index> col_offsets_;
  std::shared_ptr<lines_type const> lines_;      ///< columns (complex, H); real rows (r2c, W)
  std::shared_ptr<lines_type const> row_lines_;  ///< rows: lines_, or complex lines of W (complex)
};

/// The 2-D complex FFT of (B, 2, H, W) complex signals on slabs (channels: real, imaginary), its
/// full spectrum sharded by columns, centred and orthonormal as its fft::ComplexFftOptions say:
/// SlabFft's complex transform (see the file's comment).
template <class T, CommBackend Comm, class Fft = fft::default_engine_t<device::Host>>
using SlabComplexFft = SlabFft<T, Comm, Fft, true>;

}  // namespace distinv::layout

namespace distinv::physics {

/// The slab layout's real FFTs (SlabFft, FftwMpiSlabFft: a SlabFftEngine) as engines of
/// CircularNormal: signals and measurements SlabTensors laid out by the engine's partition, S and
/// B sharded as its spectrum (memory O(N / P)), each blur's filter spectra computed on the
/// distributed grid (each rank its rows of the circular kernel, then one distributed transform).
template <class E>
  requires(layout::SlabFftEngine<E, typename E::scalar_type, typename E::tensor_type::comm_type> &&
           !requires { requires E::complex_input; })
struct circular_engine<E> {
  using engine_type = E;                                  ///< the distributed transform
  using space_type = device::Host;                        ///< host memory
  using scalar_type = typename E::scalar_type;            ///< float or double
  using blur_type = Blur<scalar_type, device::Host, typename E::fft_type>;  ///< the operators fused
  using tensor_type = typename E::tensor_type;            ///< SlabTensors
  static constexpr bool eager_data_term = false;          ///< B at the first add (the normal operator alone: S only)

  /// The host.
  static device::Host space(E const&) noexcept { return {}; }
  /// An uninitialised signal of `shape` laid out as the engine's partition.
  static tensor_type signal(E const& e, Shape<4> const& shape) { return tensor_type(e.comm(), shape, e.partition()); }
  /// A zero signal of `shape` laid out as the engine's partition.
  static tensor_type zeros(E const& e, Shape<4> const& shape) {
    return tensor_type::zeros(e.comm(), shape, e.partition());
  }
  /// Throws Error (`what` names the caller) unless x has `shape` and the engine's partition.
  static void check(E const& e, tensor_type const& x, Shape<4> const& shape, char const* what) {
    DISTINV_REQUIRE(x.shape() == shape && x.partition() == e.partition(), what, ": expected a signal of shape ",
                    distinv::to_string(shape), " laid out as ", e.partition().to_string(), ", got ",
                    distinv::to_string(x.shape()), " laid out as ", x.partition().to_string());
  }
  /// This rank's shard of the filter spectra of a circular blur (Bf · Cf planes). A collective.
  static host::Buffer<kernels::Complex<scalar_type>> filter_spectrum(E const& e, blur_type const& op,
                                                                     Shape<4> const& shape) {
    auto const& f = op.filter();
    tensor_type grid(e.comm(), Shape<4>{f.dimension(0), f.dimension(1), shape[2], shape[3]}, e.partition());
    kernels::CircularFilter<scalar_type> const kernel{shape[2], shape[3], op.kh(), op.kw(), f.data(), nullptr};
    Index const h = grid.local_rows(), W = shape[3], lo = grid.lo();
    space_traits<device::Host>::launcher()(Index(grid.local().size()), [&, h, W, lo](Index k) {
      Index const n = k % W, i = (k / W) % h, q = k / (W * h);
      grid.local().data()[k] = kernel.value(q, lo + i, n);
    });
    return e.forward(grid);
  }
};

}  // namespace distinv::physics
