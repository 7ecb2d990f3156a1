#include "support/soak_plot.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace medseal::testing {
namespace {

constexpr double kWidth = 720, kPanelHeight = 200, kLeft = 60, kRight = 20, kTop = 40, kGap = 50;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Series {
  std::string label, color;
  std::function<double(const SoakSample&)> value;
};

// One panel: a frame, y labels at 0 and the maximum, and a polyline per series.
std::string panel(const std::vector<SoakSample>& samples, double top, const std::string& unit,
                  const std::vector<Series>& series) {
  const double plot_w = kWidth - kLeft - kRight;
  const double t_max = samples.empty() ? 1 : std::max(1.0, samples.back().t_s);
  double y_max = 1;
  for (const Series& s : series) {
    for (const SoakSample& x : samples) y_max = std::max(y_max, s.value(x) * 1.1);
  }
  std::string out = "<rect x='" + num(kLeft) + "' y='" + num(top) + "' width='" + num(plot_w) + "' height='" +
                    num(kPanelHeight) + "' fill='none' stroke='#999'/>\n";
  out += "<text x='" + num(kLeft - 5) + "' y='" + num(top + 10) + "' text-anchor='end'>" + num(y_max) + "</text>\n";
  out += "<text x='" + num(kLeft - 5) + "' y='" + num(top + kPanelHeight) + "' text-anchor='end'>0</text>\n";
  out += "<text x='" + num(kLeft) + "' y='" + num(top - 6) + "'>" + unit + "</text>\n";
  double legend_x = kLeft + 120;
  for (const Series& s : series) {
    std::string points;
    for (const SoakSample& x : samples) {
      points += num(kLeft + plot_w * x.t_s / t_max) + "," + num(top + kPanelHeight * (1 - s.value(x) / y_max)) + " ";
    }
    out += "<polyline fill='none' stroke='" + s.color + "' stroke-width='1.5' points='" + points + "'/>\n";
    out += "<text x='" + num(legend_x) + "' y='" + num(top - 6) + "' fill='" + s.color + "'>" + s.label + "</text>\n";
    legend_x += 110;
  }
  return out;
}

}  // namespace

std::string soak_svg(const std::vector<SoakSample>& samples, const std::string& title) {
  const double height = kTop + 2 * kPanelHeight + kGap + 40;
  const double t_max = samples.empty() ? 0 : samples.back().t_s;
  std::string out = "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(kWidth) + "' height='" + num(height) +
                    "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n";
  out += "<text x='" + num(kLeft) + "' y='16' font-size='13'>" + title + "</text>\n";
  out += panel(samples, kTop, "latency (ms)",
               {{"p50", "#1f77b4", [](const SoakSample& s) { return s.p50_ms; }},
                {"p99", "#d62728", [](const SoakSample& s) { return s.p99_ms; }}});
  const double second = kTop + kPanelHeight + kGap;
  out += panel(samples, second, "memory and files",
               {{"RSS (MB)", "#2ca02c", [](const SoakSample& s) { return s.rss_mb; }},
                {"open fds", "#9467bd", [](const SoakSample& s) { return static_cast<double>(s.fds); }}});
  out += "<text x='" + num(kWidth - kRight) + "' y='" + num(second + kPanelHeight + 16) +
         "' text-anchor='end'>time (s), 0 .. " + num(t_max) + "</text>\n</svg>\n";
  return out;
}

}  // namespace medseal::testing
