// Renders the sample report in a real headless Chromium and checks what a
// reader sees: no console errors or blocked fetches, one chart per indicator
// with data, the points of a known series where its figures put them on the
// chart's own axes, a page break per domain; saves a screenshot.
//
// Skips only when no Chromium is installed (tests/run.sh installs Debian's
// `chromium`).

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/views/report_render.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/halfskyctl/chromium.h"
#include "tests/halfskyctl/sample_report.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

using ::testing::IsEmpty;

constexpr char kCspFromReport[] = "default-src 'none';";

// Records errors, CSP violations and console.error calls into the DOM.
constexpr char kHeadProbe[] = R"js(<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var what = e.message || (e.target && (e.target.src || e.target.href)) || 'resource';
  window.__errors.push('error: ' + what);
}, true);
document.addEventListener('securitypolicyviolation', function (e) {
  window.__errors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
</script>)js";

// Measures the laid-out charts (positions in the SVG's user units, from
// getBoundingClientRect) and writes them as lines into <pre id="probe">.
constexpr char kBodyProbe[] = R"js(<script>
(function () {
  var lines = [];
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var ind = svg.getAttribute('data-indicator');
    var box = svg.getBoundingClientRect();
    var k = box.width / svg.viewBox.baseVal.width;
    function cx(r) { return ((r.left + r.right) / 2 - box.left) / k; }
    function cy(r) { return ((r.top + r.bottom) / 2 - box.top) / k; }
    lines.push(['chart', ind, box.width.toFixed(1), box.height.toFixed(1)].join(' '));
    svg.querySelectorAll('circle.pt, circle.proj').forEach(function (c) {
      var r = c.getBoundingClientRect();
      lines.push([c.getAttribute('class'), ind, c.getAttribute('data-year'),
                  c.getAttribute('data-value'), cx(r).toFixed(3), cy(r).toFixed(3),
                  getComputedStyle(c).fill.replace(/ /g, '')].join(' '));
    });
    svg.querySelectorAll('line.xtick').forEach(function (l) {
      lines.push(['xtick', ind, l.getAttribute('data-year'),
                  cx(l.getBoundingClientRect()).toFixed(3)].join(' '));
    });
    svg.querySelectorAll('line.ytick').forEach(function (l) {
      lines.push(['ytick', ind, l.getAttribute('data-value'),
                  cy(l.getBoundingClientRect()).toFixed(3)].join(' '));
    });
  });
  document.querySelectorAll('article.indicator').forEach(function (a) {
    lines.push(['article', a.getAttribute('data-indicator'),
                a.querySelectorAll('svg.chart').length].join(' '));
  });
  document.querySelectorAll('section.domain').forEach(function (s) {
    var st = getComputedStyle(s);
    lines.push(['domain', s.getAttribute('data-domain'), st.breakBefore || st.pageBreakBefore].join(' '));
  });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = '\n' + lines.join('\n') + '\n';
  document.body.appendChild(pre);
  function dumpErrors() {
    var old = document.getElementById('errors');
    if (old) { old.remove(); }
    var e = document.createElement('pre');
    e.id = 'errors';
    e.textContent = '\n' + window.__errors.join('\n') + '\n';
    document.body.appendChild(e);
  }
  dumpErrors();
  window.addEventListener('load', dumpErrors);
})();
</script>)js";

struct Probe {
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> errors;
  std::vector<std::string> console;  // CONSOLE lines from chromium's log
};

std::string Between(const std::string& text, const std::string& open, const std::string& close) {
  const size_t a = text.rfind(open);
  if (a == std::string::npos) {
    return "";
  }
  const size_t b = text.find(close, a + open.size());
  return text.substr(a + open.size(),
                     b == std::string::npos ? std::string::npos : b - a - open.size());
}

std::string Unescape(std::string s) {
  return absl::StrReplaceAll(s, {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}});
}

// Writes `html` with the probes injected and loads it with --dump-dom.
Probe LoadWithProbe(const std::string& chromium, const std::string& dir, const std::string& html) {
  std::string probed = html;
  EXPECT_TRUE(absl::StrContains(probed, kCspFromReport)) << "the report lost its CSP";
  // Allow the test's own inline scripts; everything else stays forbidden.
  absl::StrReplaceAll({{kCspFromReport, "default-src 'none'; script-src 'unsafe-inline';"}},
                      &probed);
  absl::StrReplaceAll({{"<head>\n", absl::StrCat("<head>\n", kHeadProbe, "\n")},
                       {"</body>", absl::StrCat(kBodyProbe, "\n</body>")}},
                      &probed);
  const std::string path = dir + "/probed.html";
  std::ofstream(path) << probed;
  auto run = testing::RunChromium(chromium, path,
                                  "--enable-logging=stderr --v=0 --window-size=794,1123 "
                                  "--virtual-time-budget=2000 --dump-dom");
  Probe probe;
  if (!run.ok()) {
    ADD_FAILURE() << run.status();
    return probe;
  }
  const std::string probe_text =
      Unescape(Between(run->stdout_text, "<pre id=\"probe\">", "</pre>"));
  for (absl::string_view line : absl::StrSplit(probe_text, '\n', absl::SkipEmpty())) {
    probe.lines.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  const std::string errors = Unescape(Between(run->stdout_text, "<pre id=\"errors\">", "</pre>"));
  for (absl::string_view line : absl::StrSplit(errors, '\n', absl::SkipEmpty())) {
    probe.errors.emplace_back(line);
  }
  for (absl::string_view line : absl::StrSplit(run->stderr_text, '\n')) {
    if (absl::StrContains(line, "CONSOLE")) {
      probe.console.emplace_back(line);
    }
  }
  EXPECT_FALSE(probe.lines.empty()) << "probe did not run; chromium stdout:\n"
                                    << run->stdout_text.substr(0, 2000) << "\nstderr:\n"
                                    << run->stderr_text.substr(0, 4000);
  return probe;
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = testing::FindChromium();
    if (chromium_.empty()) {
      GTEST_SKIP() << "chromium not installed (apt-get install chromium; tests/run.sh installs it) "
                      "— the report browser test needs a real browser";
    }
    dir_ = testing::MakeTempDir("report-browser");
  }
  std::string chromium_;
  std::string dir_;
};

TEST_F(ReportBrowserTest, ChartsPlacePointsWhereTheFiguresSay) {
  const v1::EvaluationReport report = testing::SampleReport();
  const v1::AnnualReport annual = testing::SampleAnnualReport();
  views::ReportContext ctx;
  ctx.plan_title_zh = "金台区妇女发展规划（2021—2030年）";
  ctx.area_name_zh = "金台区";
  ctx.banner_zh = "示例数据（合成）/ synthetic sample";
  ctx.annual = &annual;
  const std::string html = views::RenderReportHtml(report, ctx);
  std::ofstream(dir_ + "/report.html") << html;

  const Probe probe = LoadWithProbe(chromium_, dir_, html);
  EXPECT_THAT(probe.errors, IsEmpty());
  EXPECT_THAT(probe.console, IsEmpty());

  // One chart per indicator with at least one yearly value; none for the rest.
  std::set<std::string> want_charts;
  std::set<std::string> want_articles;
  for (const auto& ia : report.indicators()) {
    want_articles.insert(ia.indicator_id());
    for (const auto& p : ia.series()) {
      if (p.has_value()) {
        want_charts.insert(ia.indicator_id());
      }
    }
  }
  std::multiset<std::string> charts;
  std::map<std::string, int> article_charts;
  std::map<std::string, std::string> domain_breaks;
  for (const auto& l : probe.lines) {
    if (l[0] == "chart") {
      charts.insert(l[1]);
      double width = 0;
      ASSERT_TRUE(absl::SimpleAtod(l[2], &width));
      EXPECT_GT(width, 200) << "chart " << l[1] << " is squeezed";
    } else if (l[0] == "article") {
      article_charts[l[1]] = std::stoi(l[2]);
    } else if (l[0] == "domain") {
      domain_breaks[l[1]] = l.size() > 2 ? l[2] : "";
    }
  }
  EXPECT_EQ(charts, std::multiset<std::string>(want_charts.begin(), want_charts.end()));
  EXPECT_EQ(article_charts.size(), want_articles.size());
  for (const auto& [id, n] : article_charts) {
    EXPECT_EQ(n, want_charts.count(id)) << id;
  }
  EXPECT_EQ(domain_breaks.size(), 3u);
  for (const auto& [id, value] : domain_breaks) {
    EXPECT_EQ(value, "page") << "domain " << id << " must start on a new page";
  }

  // The known series: HEALTH-04, its yearly values and the 2030 projection,
  // against the chart's own axis ticks as laid out by the browser.
  const v1::IndicatorAssessment* known = nullptr;
  for (const auto& ia : report.indicators()) {
    if (ia.indicator_id() == "HEALTH-04") {
      known = &ia;
    }
  }
  ASSERT_NE(known, nullptr);
  std::map<int, double> xtick;
  std::map<double, double> ytick;
  std::map<int, std::pair<double, double>> point;
  std::map<int, std::string> fill;
  std::map<int, std::pair<double, double>> projection;
  for (const auto& l : probe.lines) {
    if (l.size() < 4 || l[1] != "HEALTH-04") {
      continue;
    }
    if (l[0] == "xtick") {
      xtick[std::stoi(l[2])] = std::stod(l[3]);
    } else if (l[0] == "ytick") {
      ytick[std::stod(l[2])] = std::stod(l[3]);
    } else if (l[0] == "pt" && l.size() >= 7) {
      point[std::stoi(l[2])] = {std::stod(l[4]), std::stod(l[5])};
      fill[std::stoi(l[2])] = l[6];
    } else if (l[0] == "proj" && l.size() >= 6) {
      projection[std::stoi(l[2])] = {std::stod(l[4]), std::stod(l[5])};
    }
  }
  ASSERT_GE(ytick.size(), 2u);
  // Value → y through the two lowest ticks; checked against all ticks.
  const auto t0 = *ytick.begin();
  const auto t1 = *std::next(ytick.begin());
  auto y_of = [&](double v) {
    return t0.second + (v - t0.first) / (t1.first - t0.first) * (t1.second - t0.second);
  };
  for (const auto& [v, y] : ytick) {
    EXPECT_NEAR(y_of(v), y, 0.5) << "value axis is not linear at tick " << v;
  }
  EXPECT_LT(t1.second, t0.second) << "higher values must be drawn higher";
  ASSERT_EQ(point.size(), static_cast<size_t>(known->series_size()));
  for (const auto& p : known->series()) {
    ASSERT_EQ(point.count(p.year()), 1u) << p.year();
    ASSERT_EQ(xtick.count(p.year()), 1u) << p.year();
    EXPECT_NEAR(point[p.year()].first, xtick[p.year()], 0.5) << "year " << p.year();
    EXPECT_NEAR(point[p.year()].second, y_of(p.value()), 0.5) << "year " << p.year();
    EXPECT_EQ(fill[p.year()], "rgb(225,111,36)") << "at-risk points are orange";
  }
  const v1::Figures& f = known->assessments(0).figures();
  ASSERT_EQ(projection.count(f.target_year()), 1u);
  EXPECT_NEAR(projection[f.target_year()].first, xtick[f.target_year()], 0.5);
  EXPECT_NEAR(projection[f.target_year()].second, y_of(f.projected_value()), 0.5);

  // A screenshot of the first page, kept next to the test's outputs.
  const std::string png = dir_ + "/report.png";
  auto shot = testing::RunChromium(
      chromium_, dir_ + "/report.html",
      absl::StrCat("--window-size=794,1123 --force-device-scale-factor=1.5 --screenshot=", png));
  ASSERT_TRUE(shot.ok()) << shot.status();
  const std::string bytes = testing::ReadFile(png);
  ASSERT_GT(bytes.size(), 20000u) << "screenshot missing or blank: " << png;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // HALFSKY_DOCS_SCREENSHOT=docs/report-example.png refreshes the docs' picture.
  if (const char* docs = std::getenv("HALFSKY_DOCS_SCREENSHOT");
      docs != nullptr && docs[0] != '\0') {
    std::ofstream(docs, std::ios::binary) << bytes;
  }
  std::cerr << "report: " << dir_ << "/report.html\nscreenshot: " << png << "\n";
}

// The detector itself: a page that throws, logs an error and tries to fetch
// (a loopback address: tests never send traffic elsewhere) must be caught, or the test above could
// never fail.
TEST_F(ReportBrowserTest, ProbeCatchesErrorsAndNetworkFetches) {
  const v1::EvaluationReport report = testing::SampleReport();
  std::string html = views::RenderReportHtml(report, views::ReportContext{});
  absl::StrReplaceAll({{"</header>",
                        "</header><img src=\"http://127.0.0.1:9/halfsky-probe-logo.png\">"
                        "<script>console.error('boom'); undefinedFunction();</script>"}},
                      &html);
  const Probe probe = LoadWithProbe(chromium_, dir_, html);
  std::string all = absl::StrJoin(probe.errors, "\n");
  EXPECT_THAT(all, ::testing::HasSubstr("console.error: boom"));
  EXPECT_THAT(all, ::testing::HasSubstr("undefinedFunction"));
  EXPECT_THAT(all, ::testing::HasSubstr("halfsky-probe-logo.png"));
}

}  // namespace
}  // namespace halfsky
