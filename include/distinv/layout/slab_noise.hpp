#pragma once
// layout/slab_noise.hpp: a noise model of physics/noise.hpp applied to a signal in the slab
// layout with the very draws the replicated operator makes, and no whole-image buffer: the
// elements in row-major order are the runs "plane p, rank q" (p outer), so the model's Stream
// draws rank 0's rows of plane 0, hands its state (generator and distribution, as text) to
// rank 1, and so on, rank after rank and plane after plane (one broadcast_bytes per run).
// Memory O(slab); the draws are O(image) in all, one rank at a time. Core + physics + layout.
#include <cstddef>
#include <locale>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/physics/noise.hpp"

namespace distinv::layout {

namespace detail {

/// The state handed from one run to the next: 'S' and the generator's and the stream's text,
/// or 'E' and the message of the Error that the run threw.
template <class Stream>
std::vector<std::byte> encode_noise_state(std::string const* failure, std::mt19937_64 const& rng,
                                          Stream const& stream) {
  std::string text;
  if (failure) {
    text = "E" + *failure;
  } else {
    std::ostringstream os;
    os.imbue(std::locale::classic());
    os << rng << ' ' << stream;
    text = "S" + os.str();
  }
  auto const* b = reinterpret_cast<std::byte const*>(text.data());
  return std::vector<std::byte>(b, b + text.size());
}

/// Reads back what encode_noise_state wrote into `rng` and `stream`; throws the run's Error
/// (its message unchanged) if it failed.
template <class Stream>
void decode_noise_state(std::vector<std::byte> const& bytes, std::mt19937_64& rng, Stream& stream) {
  std::string const text(reinterpret_cast<char const*>(bytes.data()), bytes.size());
  DISTINV_REQUIRE(!text.empty() && (text[0] == 'S' || text[0] == 'E'),
                  "apply_noise on slabs: the ranks lost step (an empty or unknown noise state)");
  if (text[0] == 'E') throw Error(text.substr(1));
  std::istringstream is(text.substr(1));
  is.imbue(std::locale::classic());
  is >> rng >> stream;
  DISTINV_REQUIRE(!is.fail(), "apply_noise on slabs: cannot read back the noise state");
}

}  // namespace detail

/// Applies `noise` to the slab tensor y in place with the values physics::apply_noise draws
/// for y's gathered tensor from the same generator, bit for bit, on any partition. The draws
/// continue rank 0's `rng`; on return every rank's `rng` is in the state that the replicated
/// draw leaves (so a stack's next operator draws on alike). A model that throws (PoissonNoise
/// with a negative rate) throws the same Error, with the replicated operator's message, on
/// every rank. A collective (none for NoNoise): one broadcast_bytes of a few kB per (B, C)
/// plane and rank, the ranks drawing one after the other.
template <class T, CommBackend Comm>
void apply_noise(physics::NoiseModel<T> const& noise, SlabTensor<T, 4, Comm>& y, std::mt19937_64& rng) {
  std::visit(
      [&](auto const& model) {
        if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(model)>, physics::NoNoise>) {
          auto stream = model.stream();
          Comm const& comm = y.comm();
          int const ranks = comm.size(), me = comm.rank();
          Index const run = y.local_rows() * y.row_size();
          auto mine = [&](Index plane) { return std::span<T>(y.local().data() + plane * run, std::size_t(run)); };
          if (ranks == 1) {
            stream(flat(y.local()), rng);
            return;
          }
          for (Index plane = 0; plane < y.planes(); ++plane)
            for (int q = 0; q < ranks; ++q) {
              std::vector<std::byte> state;
              if (q == me) {
                std::string failure;
                bool failed = false;
                try {
                  stream(mine(plane), rng);
                } catch (std::exception const& e) {
                  failure = e.what();
                  failed = true;
                }
                state = detail::encode_noise_state(failed ? &failure : nullptr, rng, stream);
              }
              comm.broadcast_bytes(state, q);
              detail::decode_noise_state(state, rng, stream);
            }
        }
      },
      noise);
}

}  // namespace distinv::layout
