// distinv-pnp helpers: SVG plots (svg_plot.hpp) and JSON metric files (json.hpp): document structure, series
// and polyline points, round ticks, escaping, null for non-finite numbers, atomic writes.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "json.hpp"
#include "svg_plot.hpp"
#include "io_temp_dir.hpp"

using namespace distinv;
using distinv::testing::TempDir;

namespace {

std::string file_text(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_of(std::string const& s, std::string const& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The (x, y) pairs of the k-th polyline's points attribute.
std::vector<std::pair<double, double>> polyline_points(std::string const& svg, std::size_t k) {
  std::size_t p = 0;
  for (std::size_t i = 0; i <= k; ++i) p = svg.find("<polyline", i ? p + 1 : 0);
  REQUIRE(p != std::string::npos);
  std::size_t const b = svg.find("points=\"", p) + 8, e = svg.find('"', b);
  std::string const pts = svg.substr(b, e - b);
  std::vector<std::pair<double, double>> out;
  std::size_t q = 0;
  while (q < pts.size()) {
    std::size_t const comma = pts.find(',', q), space = pts.find(' ', q);
    out.emplace_back(std::stod(pts.substr(q, comma - q)),
                     std::stod(pts.substr(comma + 1, (space == std::string::npos ? pts.size() : space) - comma - 1)));
    q = space == std::string::npos ? pts.size() : space + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("svg_plot: a convergence plot with two axes") {
  std::vector<double> it, ps, obj;
  for (int k = 0; k < 25; ++k) {
    it.push_back(k);
    ps.push_back(20 + 10 * (1 - std::exp(-0.2 * k)));
    obj.push_back(1e3 * std::exp(-0.4 * k) + 0.5);
  }
  pnp::SvgPlot plot;
  plot.set_title("PnP <deblur> & \"denoise\"")
      .set_x_label("iteration")
      .set_y_label("PSNR (dB)")
      .set_y_label("objective", pnp::YAxis::right)
      .set_log_y(true, pnp::YAxis::right)
      .add_series("PSNR", it, ps)
      .add_series("objective", it, obj, pnp::YAxis::right);
  std::string const svg = plot.to_svg();
  CHECK(svg.rfind("<?xml version=\"1.0\"", 0) == 0);
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.size() > 7);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count_of(svg, "<svg") == 1);
  CHECK(svg.find("PnP &lt;deblur&gt; &amp; &quot;denoise&quot;") != std::string::npos);
  CHECK(svg.find(">PSNR<") != std::string::npos);
  CHECK(svg.find(">objective (right)<") != std::string::npos);
  CHECK(svg.find(">iteration<") != std::string::npos);
  CHECK(count_of(svg, "<polyline") == 2);
  CHECK(count_of(svg, "<text") == count_of(svg, "</text>"));

  auto const p = polyline_points(svg, 0);
  REQUIRE(p.size() == 25);
  for (std::size_t k = 1; k < p.size(); ++k) {
    CHECK(p[k].first > p[k - 1].first);    // x grows to the right
    CHECK(p[k].second < p[k - 1].second);  // PSNR grows, so the line goes up
  }
  auto const q = polyline_points(svg, 1);
  REQUIRE(q.size() == 25);
  // Log axis: equal ratios are equal distances. obj - 0.5 is geometric, so check the ratio of
  // steps between points whose values are known: y(v) is linear in log10 v.
  double const y0 = q[0].second, y10 = q[10].second, y20 = q[20].second;
  double const l0 = std::log10(obj[0]), l10 = std::log10(obj[10]), l20 = std::log10(obj[20]);
  CHECK((y10 - y0) / (l10 - l0) == doctest::Approx((y20 - y10) / (l20 - l10)).epsilon(1e-2));
  // Decade tick labels on the log axis.
  CHECK(svg.find(">1000<") != std::string::npos);
  CHECK(svg.find(">0.1<") != std::string::npos);

  TempDir dir("svg");
  plot.write(dir / "convergence.svg");
  CHECK(file_text(dir / "convergence.svg") == svg);
  CHECK(dir.count() == 1);
  CHECK_THROWS_AS(plot.write(dir / "no" / "c.svg"), Error);
  CHECK_THROWS_AS(plot.add_series("bad", {1, 2}, {1}), Error);
}

TEST_CASE("svg_plot: non-finite points split the line; round ticks") {
  double const nan = std::numeric_limits<double>::quiet_NaN();
  pnp::SvgPlot plot;
  plot.add_series("gap", {0, 1, 2, 3, 4, 5, 6}, {1, 2, nan, 4, 5, 6, 7});
  std::string const svg = plot.to_svg();
  CHECK(count_of(svg, "<polyline") == 2);
  CHECK(polyline_points(svg, 0).size() == 2);
  CHECK(polyline_points(svg, 1).size() == 4);

  auto const a = pnp::detail::make_scale(0.3, 9.7, false, 6);  // step 2: 0, 2, ..., 10
  REQUIRE(a.ticks.size() == 6);
  CHECK(a.ticks.front() == 0);
  CHECK(a.ticks.back() == 10);
  CHECK(a.labels[1] == "2");
  auto const b = pnp::detail::make_scale(20.0, 30.5, false, 6);  // step 2: 20 .. 32
  CHECK(b.ticks.front() == 20);
  CHECK(b.ticks.back() == 32);
  CHECK(b.ticks.size() == 7);
  auto const c = pnp::detail::make_scale(0.0012, 0.0047, false, 6);  // step 0.0005
  CHECK(c.labels.front() == "0.001");
  CHECK(c.labels.back() == "0.005");
  auto const d = pnp::detail::make_scale(2e-5, 300, true);  // decades 1e-5 .. 1000
  CHECK(d.ticks.front() == doctest::Approx(1e-5));
  CHECK(d.labels.front() == "1e-5");
  CHECK(d.ticks.back() == doctest::Approx(1000));
  auto const e = pnp::detail::make_scale(5, 5, false);  // one value: widened
  CHECK(e.lo < 5);
  CHECK(e.hi > 5);
}

TEST_CASE("json: escaping, null for non-finite numbers, arrays, atomic write") {
  pnp::JsonWriter j;
  j.add("name", "a\"b\\c\nd\te\x01")
      .add("psnr", 31.25)
      .add("tenth", 0.1)
      .add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("inf", -std::numeric_limits<double>::infinity())
      .add("ranks", 4)
      .add("big", std::int64_t(1) << 40)
      .add("fused", true)
      .add("curve", std::vector<double>{1, 0.5, std::nan(""), 1e-300})
      .add("empty", std::vector<double>{})
      .add("backend", std::string("threads"));
  std::string const s = j.str();
  CHECK(s ==
        "{\n"
        "  \"name\": \"a\\\"b\\\\c\\nd\\te\\u0001\",\n"
        "  \"psnr\": 31.25,\n"
        "  \"tenth\": 0.1,\n"
        "  \"nan\": null,\n"
        "  \"inf\": null,\n"
        "  \"ranks\": 4,\n"
        "  \"big\": 1099511627776,\n"
        "  \"fused\": true,\n"
        "  \"curve\": [1, 0.5, null, 1e-300],\n"
        "  \"empty\": [],\n"
        "  \"backend\": \"threads\"\n"
        "}\n");
  CHECK(pnp::json_number(1.0 / 3.0) == "0.3333333333333333");  // shortest round trip
  CHECK(std::stod(pnp::json_number(1.0 / 3.0)) == 1.0 / 3.0);
  CHECK(pnp::JsonWriter().str() == "{}\n");
  CHECK_THROWS_WITH_AS(j.add("psnr", 1.0), "distinv: JsonWriter::add: expected a new key, got 'psnr' twice", Error);

  TempDir dir("json");
  j.write(dir / "metrics.json");
  CHECK(file_text(dir / "metrics.json") == s);
  CHECK_THROWS_AS(j.write(dir / "missing" / "m.json"), Error);
  CHECK(dir.count() == 1);
}
