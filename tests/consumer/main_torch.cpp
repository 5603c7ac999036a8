// Consumer of the installed package's torch component: LibTorch links and loads; a file that
// is not TorchScript (this program itself) is a distinv::Error naming it.
#include <distinv/torch.hpp>

#include <cstdio>
#include <string>

int main(int, char** argv) {
  try {
    distinv::libtorch::TorchDenoiser<float> d(argv[0], {.receptive_field = 0});
  } catch (distinv::Error const& e) {
    bool const named = std::string(e.what()).find("as a TorchScript module") != std::string::npos;
    std::printf("consumer_torch: %s\n", named ? "LibTorch loaded, bad file rejected" : e.what());
    return named ? 0 : 1;
  }
  return 1;
}
