#pragma once
// examples/distinv-pnp/svg_plot.hpp: a small dependency-free SVG line plot, e.g. convergence.svg (PSNR on the
// left axis, objective on a log right axis, against the iteration). SvgPlot holds a title, axis
// labels and named (x, y) series on either y axis; it draws round ticks (1, 2, 5 x 10^k, or
// decades on a log axis), a legend row above the plot and one polyline per run of finite
// points. write() is atomic (io/files.hpp). STL only.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/io/files.hpp"

namespace pnp {

/// Which y axis a series is drawn against.
enum class YAxis { left, right };

namespace detail {

inline std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(ch) >= 0x20 || ch == '\n' || ch == '\t') out += ch;
    }
  }
  return out;
}

inline std::string fmt(char const* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// An axis range and its ticks, on a linear or a log10 scale.
struct AxisScale {
  double lo = 0, hi = 1;  // in axis units (log10 of the value on a log axis)
  bool log = false;
  std::vector<double> ticks;  // tick values (data units)
  std::vector<std::string> labels;

  [[nodiscard]] double to_unit(double v) const { return log ? std::log10(v) : v; }
  /// Position in [0, 1] along the axis.
  [[nodiscard]] double frac(double v) const { return (to_unit(v) - lo) / (hi - lo); }
};

/// Round step of about (hi - lo) / target: 1, 2 or 5 times a power of ten.
inline double nice_step(double span, int target) {
  double const raw = span / target;
  double const mag = std::pow(10.0, std::floor(std::log10(raw)));
  double const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

/// Scale covering [lo, hi] (data units; lo > hi means no data) with round ticks.
inline AxisScale make_scale(double lo, double hi, bool log, int target = 6) {
  AxisScale a;
  a.log = log;
  if (log) {
    if (!(lo <= hi)) lo = 1, hi = 10;
    double k0 = std::floor(std::log10(lo) + 1e-12), k1 = std::ceil(std::log10(hi) - 1e-12);
    if (k1 <= k0) k1 = k0 + 1;
    a.lo = k0;
    a.hi = k1;
    int const decades = static_cast<int>(k1 - k0);
    int const every = std::max(1, (decades + 7) / 8);
    for (int k = static_cast<int>(k0); k <= static_cast<int>(k1); ++k) {
      if ((k - static_cast<int>(k0)) % every != 0) continue;
      double const p = std::pow(10.0, k);
      a.ticks.push_back(p);
      a.labels.push_back(std::abs(k) >= 4 ? "1e" + std::to_string(k) : fmt("%.10g", p));
      if (decades <= 2 && k < static_cast<int>(k1)) {
        for (double m : {2.0, 5.0}) {
          a.ticks.push_back(m * p);
          a.labels.push_back(std::abs(k) >= 4 ? fmt("%.0f", m) + "e" + std::to_string(k) : fmt("%.10g", m * p));
        }
      }
    }
    return a;
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo <= std::abs(hi) * 1e-12) {  // one value: widen around it
    double const d = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  double const step = nice_step(hi - lo, target);
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) {
    double const v = std::abs(t) < step * 1e-9 ? 0.0 : std::round(t / step) * step;
    a.ticks.push_back(v);
    a.labels.push_back(fmt("%.6g", v));
  }
  return a;
}

}  // namespace detail

/// A line plot written as SVG. Fill it with the setters and add_series(), then to_svg() or
/// write(). Non-finite points (and points <= 0 on a log axis) are left out and split the line.
class SvgPlot {
 public:
  struct Series {
    std::string name;
    std::vector<double> x, y;
    YAxis axis = YAxis::left;
  };

  SvgPlot& set_title(std::string t) { title_ = std::move(t); return *this; }
  SvgPlot& set_x_label(std::string t) { x_label_ = std::move(t); return *this; }
  SvgPlot& set_y_label(std::string t, YAxis axis = YAxis::left) {
    y_label_[index(axis)] = std::move(t);
    return *this;
  }
  SvgPlot& set_log_y(bool on, YAxis axis = YAxis::left) {
    log_y_[index(axis)] = on;
    return *this;
  }
  /// Canvas size in pixels (at least 200 x 150).
  SvgPlot& set_size(int width, int height) {
    DISTINV_REQUIRE(width >= 200 && height >= 150, "SvgPlot::set_size: expected at least 200 x 150, got ", width,
                    " x ", height);
    width_ = width;
    height_ = height;
    return *this;
  }
  /// Adds a named series; x and y must have the same length.
  SvgPlot& add_series(std::string name, std::vector<double> x, std::vector<double> y, YAxis axis = YAxis::left) {
    DISTINV_REQUIRE(x.size() == y.size(), "SvgPlot::add_series '", name, "': expected as many x as y values, got ",
                    x.size(), " and ", y.size());
    series_.push_back({std::move(name), std::move(x), std::move(y), axis});
    return *this;
  }
  [[nodiscard]] std::vector<Series> const& series() const noexcept { return series_; }

  /// The whole SVG document.
  [[nodiscard]] std::string to_svg() const {
    using detail::fmt;
    using detail::xml_escape;
    bool const has_right = std::any_of(series_.begin(), series_.end(), [](Series const& s) { return s.axis == YAxis::right; });
    double const left = 78, right = has_right ? 78 : 28, bottom = 58;
    double const top = (title_.empty() ? 16 : 44) + (series_.empty() ? 8 : 24);
    double const pw = width_ - left - right, ph = height_ - top - bottom;

    auto usable = [&](Series const& s, std::size_t i) {
      return std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!log_y_[index(s.axis)] || s.y[i] > 0);
    };
    double inf = std::numeric_limits<double>::infinity();
    double xlo = inf, xhi = -inf, ylo[2] = {inf, inf}, yhi[2] = {-inf, -inf};
    for (auto const& s : series_)
      for (std::size_t i = 0; i < s.x.size(); ++i)
        if (usable(s, i)) {
          int const a = index(s.axis);
          xlo = std::min(xlo, s.x[i]);
          xhi = std::max(xhi, s.x[i]);
          ylo[a] = std::min(ylo[a], s.y[i]);
          yhi[a] = std::max(yhi[a], s.y[i]);
        }
    detail::AxisScale const sx = detail::make_scale(xlo, xhi, false, 8);
    detail::AxisScale const sy[2] = {detail::make_scale(ylo[0], yhi[0], log_y_[0]),
                                     detail::make_scale(ylo[1], yhi[1], log_y_[1])};
    auto px = [&](double x) { return left + sx.frac(x) * pw; };
    auto py = [&](double y, int a) { return top + (1 - sy[a].frac(y)) * ph; };

    std::string o;
    o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width_) + "\" height=\"" +
         std::to_string(height_) + "\" viewBox=\"0 0 " + std::to_string(width_) + " " + std::to_string(height_) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    o += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    if (!title_.empty())
      o += "<text x=\"" + fmt("%.1f", width_ / 2.0) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" +
           xml_escape(title_) + "</text>\n";

    // Grid and ticks: x, then the left and right y axes.
    o += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
    for (double t : sx.ticks)
      o += "<line x1=\"" + fmt("%.2f", px(t)) + "\" y1=\"" + fmt("%.2f", top) + "\" x2=\"" + fmt("%.2f", px(t)) +
           "\" y2=\"" + fmt("%.2f", top + ph) + "\"/>\n";
    int const grid_axis = std::any_of(series_.begin(), series_.end(),
                                      [](Series const& s) { return s.axis == YAxis::left; }) || !has_right ? 0 : 1;
    for (double t : sy[grid_axis].ticks)
      o += "<line x1=\"" + fmt("%.2f", left) + "\" y1=\"" + fmt("%.2f", py(t, grid_axis)) + "\" x2=\"" +
           fmt("%.2f", left + pw) + "\" y2=\"" + fmt("%.2f", py(t, grid_axis)) + "\"/>\n";
    o += "</g>\n";
    o += "<rect x=\"" + fmt("%.2f", left) + "\" y=\"" + fmt("%.2f", top) + "\" width=\"" + fmt("%.2f", pw) +
         "\" height=\"" + fmt("%.2f", ph) + "\" fill=\"none\" stroke=\"black\"/>\n";
    o += "<g text-anchor=\"middle\">\n";
    for (std::size_t k = 0; k < sx.ticks.size(); ++k) {
      double const x = px(sx.ticks[k]);
      o += "<line x1=\"" + fmt("%.2f", x) + "\" y1=\"" + fmt("%.2f", top + ph) + "\" x2=\"" + fmt("%.2f", x) +
           "\" y2=\"" + fmt("%.2f", top + ph + 5) + "\" stroke=\"black\"/>";
      o += "<text x=\"" + fmt("%.2f", x) + "\" y=\"" + fmt("%.2f", top + ph + 19) + "\">" + xml_escape(sx.labels[k]) +
           "</text>\n";
    }
    o += "</g>\n";
    for (int a = 0; a < 2; ++a) {
      if (a == 1 && !has_right) break;
      double const xa = a == 0 ? left : left + pw, dir = a == 0 ? -1 : 1;
      o += std::string("<g text-anchor=\"") + (a == 0 ? "end" : "start") + "\">\n";
      for (std::size_t k = 0; k < sy[a].ticks.size(); ++k) {
        double const y = py(sy[a].ticks[k], a);
        o += "<line x1=\"" + fmt("%.2f", xa) + "\" y1=\"" + fmt("%.2f", y) + "\" x2=\"" + fmt("%.2f", xa + 5 * dir) +
             "\" y2=\"" + fmt("%.2f", y) + "\" stroke=\"black\"/>";
        o += "<text x=\"" + fmt("%.2f", xa + 8 * dir) + "\" y=\"" + fmt("%.2f", y + 4) + "\">" +
             xml_escape(sy[a].labels[k]) + "</text>\n";
      }
      o += "</g>\n";
      if (!y_label_[a].empty()) {
        double const lx = a == 0 ? 18 : width_ - 12.0, ly = top + ph / 2;
        o += "<text x=\"" + fmt("%.1f", lx) + "\" y=\"" + fmt("%.1f", ly) + "\" text-anchor=\"middle\" transform=\"rotate(" +
             (a == 0 ? std::string("-90 ") : std::string("90 ")) + fmt("%.1f", lx) + " " + fmt("%.1f", ly) + ")\">" +
             xml_escape(y_label_[a]) + "</text>\n";
      }
    }
    if (!x_label_.empty())
      o += "<text x=\"" + fmt("%.1f", left + pw / 2) + "\" y=\"" + fmt("%.1f", height_ - 14.0) +
           "\" text-anchor=\"middle\">" + xml_escape(x_label_) + "</text>\n";

    // Series: one polyline per run of usable points (a lone point as a dot).
    for (std::size_t k = 0; k < series_.size(); ++k) {
      auto const& s = series_[k];
      int const a = index(s.axis);
      std::string const colour = palette(k);
      std::string const dash = s.axis == YAxis::right ? " stroke-dasharray=\"6 3\"" : "";
      o += "<g id=\"series-" + std::to_string(k) + "\">\n";
      std::size_t i = 0;
      while (i < s.x.size()) {
        while (i < s.x.size() && !usable(s, i)) ++i;
        std::size_t j = i;
        std::string pts;
        while (j < s.x.size() && usable(s, j)) {
          pts += (j > i ? " " : "") + fmt("%.2f", px(s.x[j])) + "," + fmt("%.2f", py(s.y[j], a));
          ++j;
        }
        if (j == i + 1)
          o += "<circle cx=\"" + fmt("%.2f", px(s.x[i])) + "\" cy=\"" + fmt("%.2f", py(s.y[i], a)) +
               "\" r=\"2.5\" fill=\"" + colour + "\"/>\n";
        else if (j > i + 1)
          o += "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.8\"" + dash + " points=\"" + pts +
               "\"/>\n";
        i = j;
      }
      o += "</g>\n";
    }

    // Legend: one row above the plot area, where no data can hide it.
    if (!series_.empty()) {
      double x = left;
      double const y = top - 12;
      o += "<g>\n";
      for (std::size_t k = 0; k < series_.size(); ++k) {
        auto const& s = series_[k];
        std::string const label = s.name + (s.axis == YAxis::right && has_left() ? " (right)" : "");
        o += "<line x1=\"" + fmt("%.2f", x) + "\" y1=\"" + fmt("%.2f", y - 4) + "\" x2=\"" + fmt("%.2f", x + 24) +
             "\" y2=\"" + fmt("%.2f", y - 4) + "\" stroke=\"" + palette(k) + "\" stroke-width=\"2\"" +
             (s.axis == YAxis::right ? " stroke-dasharray=\"6 3\"" : "") + "/>";
        o += "<text x=\"" + fmt("%.2f", x + 30) + "\" y=\"" + fmt("%.2f", y) + "\">" + xml_escape(label) + "</text>\n";
        x += 30 + 7.0 * static_cast<double>(label.size()) + 18;
      }
      o += "</g>\n";
    }
    o += "</svg>\n";
    return o;
  }

  /// Writes to_svg() to `path` atomically.
  void write(std::filesystem::path const& path) const { distinv::io::write_file_atomic(path, to_svg()); }

 private:
  static int index(YAxis a) noexcept { return a == YAxis::left ? 0 : 1; }
  static std::string palette(std::size_t k) {
    static constexpr char const* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                              "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    return colours[k % 8];
  }
  [[nodiscard]] bool has_left() const {
    return std::any_of(series_.begin(), series_.end(), [](Series const& s) { return s.axis == YAxis::left; });
  }

  std::string title_, x_label_;
  std::string y_label_[2];
  bool log_y_[2] = {false, false};
  int width_ = 760, height_ = 460;
  std::vector<Series> series_;
};

}  // namespace pnp
