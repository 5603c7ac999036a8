// Learned denoisers on one process: TorchDenoiser equals PyTorch on the fixture's networks
// (sigma as a tensor, a float or absent; float and double; padding to a spatial multiple;
// optimised for inference or as saved),
// options override the file's metadata, copies are independent modules, and bad files, inputs
// and outputs are Errors naming what was expected and what was given.
#include "torch_models.hpp"  // first: see there

#include <thread>

#include "distinv/launch.hpp"

using namespace distinv;
using distinv::testing::sigma;
using distinv::testing::torch_data;
using distinv::testing::torch_model;
using distinv::libtorch::SigmaArg;
using distinv::libtorch::TorchDenoiser;
using distinv::libtorch::TorchDenoiserOptions;

TEST_CASE("torch: TorchDenoiser equals the network run by PyTorch") {
  for (bool optimize : {true, false})  // optimize_for_inference, or the module as saved
    for (char const* name : {"sigma_tensor", "sigma_float", "no_sigma", "multiple4"}) {
      CAPTURE(optimize);
      CAPTURE(name);
      TorchDenoiser<float> const d(torch_model(std::string(name) + ".pt"), {.optimize = optimize});
      for (char const* input : {"small", "large"}) {
        CAPTURE(input);
        auto const expected = torch_data(std::string(name) + "_" + input);
        CHECK(max_abs_diff(d(torch_data(input), sigma), expected) <= 1e-5);
      }
    }
  // double: the batch goes to the float32 network as float and comes back as double
  TorchDenoiser<double> const dd(torch_model("sigma_tensor.pt"));
  CHECK(max_abs_diff(dd(torch_data<double>("small"), sigma), torch_data<double>("sigma_tensor_small")) <= 1e-5);
  // sigma reaches the network: another level, another result
  TorchDenoiser<float> const d(torch_model("sigma_tensor.pt"));
  CHECK(max_abs_diff(d(torch_data("small"), 0.5), torch_data("sigma_tensor_small")) > 1e-3);
}

TEST_CASE("torch: metadata, options and copies") {
  TorchDenoiser<float> const d(torch_model("sigma_tensor.pt"));
  CHECK(d.receptive_field() == 3);
  CHECK(d.channels() == 3);
  CHECK(d.sigma_arg() == SigmaArg::tensor);
  CHECK(d.spatial_multiple() == 1);
  CHECK(optim::receptive_field_of(d) == 3);
  CHECK(TorchDenoiser<float>(torch_model("multiple4.pt")).spatial_multiple() == 4);
  CHECK(TorchDenoiser<float>(torch_model("sigma_float.pt")).sigma_arg() == SigmaArg::scalar);
  CHECK(TorchDenoiser<float>(torch_model("no_sigma.pt")).sigma_arg() == SigmaArg::none);
  // options win over the metadata
  TorchDenoiser<float> const wide(torch_model("sigma_tensor.pt"), {.receptive_field = 7});
  CHECK(wide.receptive_field() == 7);
  // a file without metadata: the caller says what the file does not
  CHECK_THROWS_WITH_AS(TorchDenoiser<float>(torch_model("no_metadata.pt")), doctest::Contains("expected a receptive field"),
                       Error);
  TorchDenoiser<float> const bare(torch_model("no_metadata.pt"), {.receptive_field = 3});
  CHECK(bare.channels() == 0);
  CHECK(bare.sigma_arg() == SigmaArg::tensor);
  CHECK(max_abs_diff(bare(torch_data("small"), sigma), torch_data("sigma_tensor_small")) <= 1e-5);
  // copies are modules of their own, usable at the same time from several threads
  TorchDenoiser<float> copy = d;
  auto const x = torch_data("large");
  auto const expected = torch_data("sigma_tensor_large");
  Tensor4<float> a, b;
  {
    std::jthread t1([&] { a = d(x, sigma); }), t2([&] { b = copy(x, sigma); });
  }
  CHECK(max_abs_diff(a, expected) <= 1e-5);
  CHECK(max_abs_diff(b, expected) <= 1e-5);
  TorchDenoiser<float> moved = std::move(copy);
  CHECK(max_abs_diff(moved(x, sigma), expected) <= 1e-5);
  // intra-op threads: a rank count that keeps ranks x threads within the cores
  TorchDenoiser<float> const one(torch_model("sigma_tensor.pt"), {.intra_op_threads = 1});
  CHECK(max_abs_diff(one(x, sigma), expected) <= 1e-5);
  CHECK(::at::get_num_threads() == 1);
  launch<comm::SingleProcess>([](auto& ctx) { CHECK(distinv::libtorch::threads_per_rank(ctx) == distinv::libtorch::usable_cores()); });
  launch<comm::Threads>(2, [&](auto& ctx) {
    CHECK(distinv::libtorch::ranks_on_this_host(ctx) == 2);
    int const share = distinv::libtorch::threads_per_rank(ctx);
    CHECK(share == std::max(1, distinv::libtorch::usable_cores() / 2));
    TorchDenoiser<float> const mine(torch_model("sigma_tensor.pt"), {.intra_op_threads = share});
    CHECK(max_abs_diff(mine(x, sigma), expected) <= 1e-5);
    CHECK(::at::get_num_threads() == share);  // this rank's thread runs with its share
  });
}

TEST_CASE("torch: bad files, inputs and outputs are Errors saying what was expected") {
  CHECK_THROWS_WITH_AS(TorchDenoiser<float>(torch_model("missing.pt")), doctest::Contains("cannot read the model file"),
                       Error);
  CHECK_THROWS_WITH_AS(TorchDenoiser<float>(torch_model("small.npy")), doctest::Contains("as a TorchScript module"), Error);
  TorchDenoiser<float> const d(torch_model("sigma_tensor.pt"));
  Tensor4<float> gray(1, 1, 16, 16);
  gray.setConstant(0.5f);
  CHECK_THROWS_WITH_AS(d(gray, sigma), doctest::Contains("expected 3 channels, got a batch of shape (1, 1, 16, 16)"), Error);
  // no declared channel count: the module's own failure, without its backtrace
  TorchDenoiser<float> const bare(torch_model("no_metadata.pt"), {.receptive_field = 3});
  CHECK_THROWS_WITH_AS(bare(gray, sigma), doctest::Contains("the module failed on a batch of shape (1, 1, 16, 16)"), Error);
  try {
    bare(gray, sigma);
  } catch (Error const& e) {
    CHECK(std::string(e.what()).find("frame #") == std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  TorchDenoiser<float> const bad(torch_model("bad_shape.pt"));
  CHECK_THROWS_WITH_AS(bad(torch_data("small"), sigma),
                       doctest::Contains("expected an output of the input's shape (2, 3, 20, 18), got (2, 3, 19, 18)"), Error);
  // a traced module takes sigma as a tensor only
  TorchDenoiser<float> const as_float(torch_model("sigma_tensor.pt"), {.sigma_arg = SigmaArg::scalar});
  CHECK_THROWS_WITH_AS(as_float(torch_data("small"), sigma), doctest::Contains("sigma passed as float"), Error);
  CHECK_THROWS_AS(TorchDenoiser<float>(torch_model("sigma_tensor.pt"), {.channels = -1}), Error);
}

TEST_CASE("torch: the metadata reader") {
  using distinv::libtorch::parse_model_info;
  auto const info = parse_model_info(R"({"receptive_field": 20, "sigma_arg": "float", "channels": 1,
                                         "spatial_multiple": 8, "source": "DRUNet \"x\"", "nested_ok": null})",
                                     "m.pt");
  CHECK(info.receptive_field == 20);
  CHECK(info.sigma_arg == SigmaArg::scalar);
  CHECK(info.channels == 1);
  CHECK(info.spatial_multiple == 8);
  auto const empty = parse_model_info(" { } ", "m.pt");
  CHECK(!empty.receptive_field);
  CHECK(!empty.sigma_arg);
  CHECK_THROWS_WITH_AS(parse_model_info(R"({"receptive_field": "20"})", "m.pt"),
                       doctest::Contains("'receptive_field' must be a non-negative integer, got \"20\""), Error);
  CHECK_THROWS_WITH_AS(parse_model_info(R"({"channels": 2.5})", "m.pt"), doctest::Contains("got 2.5"), Error);
  CHECK_THROWS_WITH_AS(parse_model_info(R"({"sigma_arg": "map"})", "m.pt"),
                       doctest::Contains("expected \"tensor\", \"float\" or \"none\", got \"map\""), Error);
  CHECK_THROWS_WITH_AS(parse_model_info(R"({"spatial_multiple": 0})", "m.pt"), doctest::Contains("at least 1"), Error);
  for (char const* bad : {"", "[1]", R"({"a": 1)", R"({"a" 1})", R"({"a": 1} x)", R"({"a": [1]})", R"({"a": "x)"})
    CHECK_THROWS_WITH_AS(parse_model_info(bad, "m.pt"), doctest::Contains("m.pt"), Error);
}
