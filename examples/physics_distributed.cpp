// physics_distributed: the reference's distributed physics demo in C++. Three Gaussian blurs
// (circular padding) are stacked, the stack is spread over the ranks with distribute(), and
// A, Aᵀ and AᵀA are compared with the non-distributed stack (exit code 1 if they differ).
//   physics_distributed [--image FILE] [--size N] [--gather naive|concatenated|broadcast]
//                       [--threads N | --mpi] [--output DIR]
// Rank 0 writes distributed_physics_forward.png (original | 3 measurements) and
// distributed_physics_adjoint.png (original | Aᵀy | AᵀAx, min-max normalised) into DIR.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <vector>
#include <string>

#include "distinv/distinv.hpp"
#include "example_support.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/png.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;
using Image = Tensor4<float>;

struct Args {
  std::string image, gather = "concatenated", output = ".";
  Index size = 256;
  int threads = 0;
  bool mpi = false;
};

// |distributed - reference| over one or more tensors: mean, max, and the tolerance
// 1e-5 relative to the largest reference value.
struct Diff {
  double sum = 0, max = 0, scale = 0;
  Index count = 0;
  void add(Image const& a, Image const& ref) {
    for (Index i = 0; i < a.size(); ++i) sum += std::abs(double(a.data()[i]) - double(ref.data()[i]));
    count += a.size();
    max = std::max(max, max_abs_diff(a, ref));
    scale = std::max(scale, max_abs(ref));
  }
  bool report() const {
    bool const ok = max <= 1e-5 * std::max(scale, 1e-30);
    std::printf("   Mean absolute difference: %.2e\n   Max absolute difference:  %.2e\n   %s\n",
                sum / double(count), max,
                ok ? "Results match (max difference <= 1e-5 relative)" : "MISMATCH: max difference > 1e-5 relative");
    return ok;
  }
};

template <class Gather, class Ctx>
int demo(Ctx& ctx, Args const& args, Image const& x) {
  bool const lead = ctx.rank() == 0;
  if (lead)
    std::printf("======================================================================\n"
                "Distributed Physics Operators Demo\n"
                "======================================================================\n\n"
                "Running on %d rank(s), %s backend, gather policy %s\n   Device: %s\n",
                ctx.world_size(), std::string(Ctx::comm_type::name()).c_str(), std::string(Gather::name()).c_str(),
                ctx.device().name().c_str());
  // Step 1: three Gaussian blurs with circular padding, stacked (noise-free: exact comparison).
  std::vector<physics::Blur<float>> blurs;
  for (auto kernel : {physics::gaussian_blur<float>(1.0), physics::gaussian_blur<float>(2.5),
                      physics::gaussian_blur<float>(std::array<double, 2>{1.5, 3.5}, 30.0)})
    blurs.emplace_back(kernel, physics::Padding::circular);
  physics::StackedLinearPhysics<physics::Blur<float>> stack(blurs);
  if (lead) std::printf("\nCreated stacked physics with %zu operators (Blur x 3)\n   Image shape: %s\n",
                        stack.size(), to_string(shape_of(x)).c_str());
  // Step 2: distribute; each rank keeps only its own operators.
  auto dphys = distribute<Gather>(stack, ctx);
  if (lead) std::printf("\nDistributed physics created\n");
  // Which rank holds which operator, as each rank reports it (one all-reduce), printed by
  // rank 0: the output of separate MPI processes would interleave.
  std::vector<double> holder(stack.size(), 0.0);
  for (Index i : dphys.local_indices()) holder[std::size_t(i)] = ctx.rank() + 1;
  ctx.all_reduce(std::span<double>(holder));
  for (int r = 0; lead && r < ctx.world_size(); ++r) {
    std::string owned;
    for (std::size_t i = 0; i < holder.size(); ++i)
      if (holder[i] == r + 1) owned += " " + std::to_string(i);
    std::printf("   rank %d: local operators {%s }\n", r, owned.c_str());
  }
  bool ok = true;
  // Step 3: forward A, gathered on every rank.
  auto const y = dphys.A(x);
  if (lead) {
    std::printf("\nTesting forward operation (A)...\n   Number of measurements: %zu\n", y.size());
    for (std::size_t i = 0; i < y.size(); ++i)
      std::printf("   Measurement %zu shape: %s\n", i, to_string(shape_of(y[i])).c_str());
    std::printf("\nComparing with non-distributed forward operation...\n");
    auto const y_ref = stack.A(x);
    Diff d;
    for (std::size_t i = 0; i < y.size(); ++i) d.add(y[i], y_ref[i]);
    ok = d.report() && ok;
  }
  // Step 4: adjoint Aᵀy (local sums, one all-reduce).
  auto const aty = dphys.A_adjoint(y);
  if (lead) {
    std::printf("\nTesting adjoint operation (A^T)...\n   Output shape: %s\n   Output norm: %.4f\n"
                "\nComparing with non-distributed adjoint operation...\n",
                to_string(shape_of(aty)).c_str(), norm(aty));
    Diff d;
    d.add(aty, stack.A_adjoint(stack.A(x)));
    ok = d.report() && ok;
  }
  // Step 5: AᵀA x.
  auto const atax = dphys.A_adjoint_A(x);
  if (lead) {
    std::printf("\nTesting composition (A^T A)...\n   Output shape: %s\n   Output norm: %.4f\n"
                "\nComparing with non-distributed A^T A operation...\n",
                to_string(shape_of(atax)).c_str(), norm(atax));
    Diff d;
    d.add(atax, stack.A_adjoint_A(x));
    ok = d.report() && ok;
    // Step 6: images.
    std::filesystem::path const out(args.output);
    std::filesystem::create_directories(out);
    io::write_png(out / "distributed_physics_forward.png", io::montage<float>({x, y[0], y[1], y[2]}));
    io::write_png(out / "distributed_physics_adjoint.png",
                  io::montage<float>({x, io::normalize_minmax(aty), io::normalize_minmax(atax)}));
    std::printf("\n%s\n   Results saved to:\n   - %s\n   - %s\n"
                "======================================================================\n",
                ok ? "Demo completed successfully!" : "Demo FAILED: distributed and non-distributed results differ",
                (out / "distributed_physics_forward.png").string().c_str(),
                (out / "distributed_physics_adjoint.png").string().c_str());
  }
  return ok ? 0 : 1;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string const opt = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("option ", opt, " needs a value");
      return argv[++i];
    };
    auto number = [&](long lo) {
      std::string const v = value();
      char* end = nullptr;
      long const n = std::strtol(v.c_str(), &end, 10);
      DISTINV_REQUIRE(!v.empty() && *end == 0 && n >= lo, "option ", opt, ": expected an integer >= ", lo, ", got '",
                      v, "'");
      return n;
    };
    if (opt == "--image") a.image = value();
    else if (opt == "--size") a.size = number(0);
    else if (opt == "--gather") a.gather = value();
    else if (opt == "--output") a.output = value();
    else if (opt == "--threads") a.threads = int(number(1));
    else if (opt == "--mpi") a.mpi = true;
    else fail("unknown option '", opt, "' (expected --image, --size, --gather, --threads, --mpi, --output)");
  }
  with_gather(a.gather, []<class G>() {});  // an unknown policy is bad input
  DISTINV_REQUIRE(a.image.empty() ? a.size > 0 : true, "option --size: expected > 0 for the built-in image");
  return a;
}

int main(int argc, char** argv) {
  Args args;
  Image x;
  try {
    args = parse(argc, argv);
#ifndef DISTINV_DEMO_MPI
    if (args.mpi) fail("this build has no MPI backend (--mpi)");
#endif
    x = examples::load_image(args.image, args.size);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "physics_distributed: %s\n", e.what());
    return 2;
  }
  try {
    int status = 0;
    auto body = [&](auto& ctx) {
      int const s = with_gather(args.gather, [&]<class G>() { return demo<G>(ctx, args, x); });
      if (ctx.rank() == 0) status = s;
    };
    examples::launch_selected(argc, argv, args.mpi, args.threads, body);
    return status;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "physics_distributed: %s\n", e.what());
    return 1;
  }
}
