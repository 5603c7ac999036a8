#pragma once
// examples/distinv-pnp/json.hpp: a tiny writer of flat JSON objects for metric files (metrics.json): keys in
// insertion order, values that are numbers, strings, booleans, arrays of numbers or nested objects. Strings are
// escaped per RFC 8259; non-finite numbers (NaN, inf) are written as null, finite ones in the
// shortest form that reads back to the same double. write() is atomic (io/files.hpp). STL only.
#include <charconv>
#include <cmath>
#include <concepts>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/io/files.hpp"

namespace pnp {

/// `s` as a JSON string literal, quotes included.
inline std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[(static_cast<unsigned char>(ch) >> 4) & 0xf];
          out += hex[static_cast<unsigned char>(ch) & 0xf];
        } else {
          out += ch;  // UTF-8 passes through
        }
    }
  }
  return out + "\"";
}

/// A JSON number (shortest round-trip form), or null when `v` is NaN or infinite.
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  auto const r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

/// A flat JSON object built key by key. Keys must be unique (Error otherwise).
class JsonWriter {
 public:
  JsonWriter& add(std::string_view key, double v) { return put(key, json_number(v)); }
  JsonWriter& add(std::string_view key, float v) { return put(key, json_number(double(v))); }
  JsonWriter& add(std::string_view key, bool v) { return put(key, v ? "true" : "false"); }
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  JsonWriter& add(std::string_view key, I v) {
    return put(key, std::to_string(v));
  }
  JsonWriter& add(std::string_view key, std::string_view v) { return put(key, json_quote(v)); }
  JsonWriter& add(std::string_view key, char const* v) { return put(key, json_quote(v)); }
  JsonWriter& add(std::string_view key, std::string const& v) { return put(key, json_quote(v)); }
  JsonWriter& add(std::string_view key, std::span<double const> v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_number(v[i]);
    return put(key, s + "]");
  }
  JsonWriter& add(std::string_view key, std::vector<double> const& v) {
    return add(key, std::span<double const>(v.data(), v.size()));
  }
  JsonWriter& add(std::string_view key, std::vector<float> const& v) {
    std::vector<double> d(v.begin(), v.end());
    return add(key, std::span<double const>(d.data(), d.size()));
  }

  /// A nested object, written on one line.
  JsonWriter& add(std::string_view key, JsonWriter const& object) {
    std::string o = "{";
    for (std::size_t i = 0; i < object.items_.size(); ++i)
      o += (i ? ", " : "") + json_quote(object.items_[i].first) + ": " + object.items_[i].second;
    return put(key, o + "}");
  }

  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }

  /// The object, one key per line.
  [[nodiscard]] std::string str() const {
    std::string o = "{";
    for (std::size_t i = 0; i < items_.size(); ++i)
      o += (i ? ",\n  " : "\n  ") + json_quote(items_[i].first) + ": " + items_[i].second;
    return o + (items_.empty() ? "}\n" : "\n}\n");
  }

  /// Writes str() to `path` atomically.
  void write(std::filesystem::path const& path) const { distinv::io::write_file_atomic(path, str()); }

 private:
  JsonWriter& put(std::string_view key, std::string value) {
    for (auto const& kv : items_)
      DISTINV_REQUIRE(kv.first != key, "JsonWriter::add: expected a new key, got '", key, "' twice");
    items_.emplace_back(std::string(key), std::move(value));
    return *this;
  }

  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace pnp
