#pragma once
// torch/metadata.hpp: what a model file says about its network — ModelInfo, read from the
// "distinv.json" extra file that examples/export_denoiser.py (or torch.jit.save's _extra_files)
// puts in a TorchScript archive: a flat JSON object such as
//   {"receptive_field": 20, "sigma_arg": "tensor", "channels": 3, "spatial_multiple": 8}
// Unknown keys are ignored (free to document the source); a known key of the wrong type or a
// malformed object is an Error. STL and core/ only: no LibTorch here.
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::libtorch {

/// How the module takes the noise level: model(x, sigma) with sigma a (B,) tensor (deepinv's
/// denoisers, and the only form a traced module can take), model(x, sigma) with a float
/// (scripted modules typed `sigma: float`), or model(x) (a network trained for one level).
enum class SigmaArg { tensor, scalar, none };

/// "tensor", "float" or "none" as a SigmaArg; throws Error for another name.
inline SigmaArg parse_sigma_arg(std::string_view s) {
  if (s == "tensor") return SigmaArg::tensor;
  if (s == "float") return SigmaArg::scalar;
  if (s == "none") return SigmaArg::none;
  fail("sigma_arg: expected \"tensor\", \"float\" or \"none\", got \"", s, "\"");
}
/// "tensor", "float" or "none".
inline char const* to_string(SigmaArg s) {
  return s == SigmaArg::tensor ? "tensor" : s == SigmaArg::scalar ? "float" : "none";
}

/// The network's declared properties; each is empty when the file does not say.
struct ModelInfo {
  std::optional<Index> receptive_field;   ///< radius of dependence, in samples
  /// How the network takes the noise level.
  std::optional<SigmaArg> sigma_arg;
  std::optional<Index> channels;          ///< channels of its input (and output)
  std::optional<Index> spatial_multiple;  ///< H and W it needs to be multiples of (e.g. 8 for DRUNet)
};

namespace detail {

/// A minimal reader of one flat JSON object whose values are strings, numbers, booleans or
/// null; returns key -> value text (strings unescaped, other values as written).
class FlatJson {
 public:
  struct Value {
    bool is_string = false;
    std::string text;
  };

  static std::map<std::string, Value> parse(std::string_view s, std::string const& where) {
    FlatJson p(s, where);
    std::map<std::string, Value> out;
    p.expect('{');
    if (p.peek() == '}') {
      ++p.i;
      p.end();
      return out;
    }
    for (;;) {
      DISTINV_REQUIRE(p.peek() == '"', where, ": expected a quoted key at offset ", p.i);
      std::string key = p.string();
      p.expect(':');
      out[key] = p.value();
      char const c = p.peek();
      ++p.i;
      if (c == '}') break;
      DISTINV_REQUIRE(c == ',', where, ": expected ',' or '}' at offset ", p.i - 1);
    }
    p.end();
    return out;
  }

 private:
  FlatJson(std::string_view text, std::string const& w) : s(text), where(w) {}

  std::string_view s;
  std::size_t i = 0;
  std::string const& where;

  char peek() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return i < s.size() ? s[i] : '\0';
  }
  void expect(char c) {
    DISTINV_REQUIRE(peek() == c, where, ": expected '", c, "' at offset ", i);
    ++i;
  }
  void end() { DISTINV_REQUIRE(peek() == '\0', where, ": unexpected text after the object at offset ", i); }
  std::string string() {
    std::string out;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\') {
        DISTINV_REQUIRE(++i < s.size(), where, ": unterminated string");
        char const e = s[i];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // \" \\ \/ as themselves
      } else {
        out += s[i];
      }
    }
    DISTINV_REQUIRE(i < s.size(), where, ": unterminated string");
    ++i;
    return out;
  }
  Value value() {
    if (peek() == '"') return {true, string()};
    std::size_t const start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    DISTINV_REQUIRE(i > start, where, ": expected a value at offset ", start);
    std::string text(s.substr(start, i - start));
    DISTINV_REQUIRE(text != "[" && text.front() != '[' && text.front() != '{', where,
                    ": expected a string, number, boolean or null for a value, got ", text);
    return {false, text};
  }
};

inline Index metadata_index(std::map<std::string, FlatJson::Value> const& m, char const* key, std::string const& where) {
  auto const& v = m.at(key);
  std::int64_t n = 0;
  auto const [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
  DISTINV_REQUIRE(!v.is_string && ec == std::errc{} && end == v.text.data() + v.text.size() && n >= 0, where, ": '",
                  key, "' must be a non-negative integer, got ", v.is_string ? "\"" + v.text + "\"" : v.text);
  return Index(n);
}

}  // namespace detail

/// Parses the "distinv.json" of a model file (`where` names it in errors).
inline ModelInfo parse_model_info(std::string_view json, std::string const& where) {
  auto const m = detail::FlatJson::parse(json, where);
  ModelInfo info;
  if (m.count("receptive_field")) info.receptive_field = detail::metadata_index(m, "receptive_field", where);
  if (m.count("channels")) info.channels = detail::metadata_index(m, "channels", where);
  if (m.count("spatial_multiple")) info.spatial_multiple = detail::metadata_index(m, "spatial_multiple", where);
  if (m.count("sigma_arg")) {
    auto const& v = m.at("sigma_arg");
    DISTINV_REQUIRE(v.is_string, where, ": 'sigma_arg' must be a string, got ", v.text);
    try {
      info.sigma_arg = parse_sigma_arg(v.text);
    } catch (Error const& e) {
      fail(where, ": ", std::string(e.what()).substr(9));  // drop the inner "distinv: "
    }
  }
  DISTINV_REQUIRE(!info.spatial_multiple || *info.spatial_multiple > 0, where,
                  ": 'spatial_multiple' must be at least 1, got 0");
  return info;
}

}  // namespace distinv::libtorch
