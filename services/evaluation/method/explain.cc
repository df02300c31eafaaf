#include "services/evaluation/method/explain.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace halfsky::evaluation {

using ::halfsky::v1::Comparator;
using ::halfsky::v1::Indicator;
using ::halfsky::v1::Target;

namespace {

std::string Fixed(double v, int decimals) {
  std::string s = absl::StrFormat("%.*f", decimals, v);
  // "-0.0" reads as a sign where there is none.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) {
    s.erase(0, 1);
  }
  return s;
}

std::string Number(const Indicator& indicator, double v) {
  if (indicator.kind() == v1::INDICATOR_KIND_COUNT && std::fabs(v - std::round(v)) < 1e-9) {
    return Fixed(v, 0);
  }
  return Fixed(v, 1);
}

std::string UnitEn(const std::string& unit) {
  if (unit.empty()) {
    return "";
  }
  if (unit == "/10万") {
    return " per 100,000";
  }
  if (unit == "/万") {
    return " per 10,000";
  }
  if (unit == "%" || unit == "‰") {
    return unit;
  }
  if (unit == "年" || unit == "岁") {
    return " years";
  }
  if (unit == "人") {
    return " persons";
  }
  if (unit == "元") {
    return " yuan";
  }
  if (unit == "小时") {
    return " hours";
  }
  if (unit == "分钟") {
    return " minutes";
  }
  return " " + unit;
}

// Unit of a difference of two figures.
std::string DiffUnitZh(const std::string& unit) {
  if (unit == "%") {
    return "个百分点";
  }
  if (unit == "‰") {
    return "个千分点";
  }
  return unit;
}

std::string DiffUnitEn(const std::string& unit) {
  if (unit == "%") {
    return " percentage points";
  }
  if (unit == "‰") {
    return " per-mille points";
  }
  return UnitEn(unit);
}

std::string Count(double k) {
  return std::fabs(k - std::round(k)) < 1e-9 ? Fixed(k, 0) : Fixed(k, 1);
}

std::string Events(double k) { return Count(k) + (k == 1 ? " event" : " events"); }

std::string LevelPercent(double level) { return absl::StrFormat("%g", level * 100); }

// Everything a sentence needs about one assessment.
struct Words {
  const Indicator& ind;
  const MethodOptions& opt;
  const Assessment& a;
  bool gap = false;

  std::string Subject() const {
    if (!gap) {
      return ind.name_zh();
    }
    return ind.name_zh() +
           (a.target.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "的城乡差距" : "的男女差距");
  }
  std::string SubjectEn() const {
    if (!gap) {
      return ind.name_en();
    }
    return "The " +
           std::string(a.target.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "urban–rural"
                                                                               : "female–male") +
           " gap in " + ind.name_en();
  }
  std::string V(double v) const {
    return gap ? Number(ind, v) + DiffUnitZh(ind.unit()) : FormatFigureZh(ind, v);
  }
  std::string VEn(double v) const {
    return gap ? Number(ind, v) + DiffUnitEn(ind.unit()) : FormatFigureEn(ind, v);
  }
  std::string L(int y) const {
    if (a.pooled) {
      return absl::StrFormat("%d—%d年", y - opt.pool_years + 1, y);
    }
    return absl::StrFormat("%d年", y);
  }
  std::string LEn(int y) const {
    if (a.pooled) {
      return absl::StrFormat("%d–%d", y - opt.pool_years + 1, y);
    }
    return absl::StrFormat("%d", y);
  }
  std::string Range(int t0, int t) const {
    if (a.pooled) {
      return L(t0) + "至" + L(t);
    }
    return absl::StrFormat("%d—%d年", t0, t);
  }
  std::string RangeEn(int t0, int t) const {
    if (a.pooled) {
      return LEn(t0) + " to " + LEn(t);
    }
    return absl::StrFormat("%d–%d", t0, t);
  }
  std::string TT() const { return TargetTextZh(ind, a.target); }
  std::string TTEn() const { return TargetTextEn(ind, a.target); }
  std::string Up() const { return gap ? "扩大" : "上升"; }
  std::string Down() const { return gap ? "缩小" : "下降"; }
  std::string UpEn() const { return gap ? "widen" : "rise"; }
  std::string DownEn() const { return gap ? "narrow" : "fall"; }
  std::string RoseEn() const { return gap ? "widened" : "rose"; }
  std::string FellEn() const { return gap ? "narrowed" : "fell"; }
  std::string Band() const {
    const double v = a.target.value();
    const double tol = EffectiveAboutTolerance(a.target, opt);
    return absl::StrFormat("%s—%s", V(v - tol), V(v + tol));
  }
  std::string BandEn() const {
    const double v = a.target.value();
    const double tol = EffectiveAboutTolerance(a.target, opt);
    return absl::StrFormat("%s–%s", VEn(v - tol), VEn(v + tol));
  }
};

bool Meets(const Target& target, const MethodOptions& opt, double x) {
  const double v = target.value();
  switch (target.comparator()) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_INCREASE:
      return x >= v;
    case v1::COMPARATOR_BELOW:
      return x < v;
    case v1::COMPARATOR_ABOUT: {
      const double tol = EffectiveAboutTolerance(target, opt);
      return x >= v - tol && x <= v + tol;
    }
    default:
      return x <= v;
  }
}

std::string GoalVerbZh(Comparator cmp) {
  switch (cmp) {
    case v1::COMPARATOR_INCREASE:
      return "提高";
    case v1::COMPARATOR_NARROW_GAP:
      return "缩小";
    default:
      return "降低";
  }
}

std::string GoalVerbEn(Comparator cmp) {
  switch (cmp) {
    case v1::COMPARATOR_INCREASE:
      return "rise";
    case v1::COMPARATOR_NARROW_GAP:
      return "narrow";
    default:
      return "fall";
  }
}

void NotAssessableSentences(const Words& w, std::string* zh, std::string* en) {
  const v1::Figures& f = w.a.figures;
  const std::string s = w.Subject();
  const std::string se = w.SubjectEn();
  switch (w.a.reason) {
    case NotAssessableReason::kQualitative:
      *zh = s + "为定性指标，按年度工作进展和自评情况评估，不计算数值进展。";
      *en = se + " is qualitative: it is assessed from yearly narratives, not from numbers.";
      return;
    case NotAssessableReason::kTooFewYears:
      *zh = absl::StrFormat("%s仅有%s一年数据（%s），不足两年，暂无法评估进展。", s,
                            w.L(f.current_year()), w.V(f.current_value()));
      *en =
          absl::StrFormat("%s has data for %s only (%s); two years are needed to assess progress.",
                          se, w.LEn(f.current_year()), w.VEn(f.current_value()));
      return;
    case NotAssessableReason::kSignChange:
      *zh = absl::StrFormat("%s基期%s（%s）与%s（%s）数值符号不同，无法按年均增长率评估。", s,
                            w.L(f.base_year()), w.V(f.base_value()), w.L(f.current_year()),
                            w.V(f.current_value()));
      *en = absl::StrFormat(
          "%s changed sign between %s (%s) and %s (%s); growth rates cannot be computed.", se,
          w.LEn(f.base_year()), w.VEn(f.base_value()), w.LEn(f.current_year()),
          w.VEn(f.current_value()));
      return;
    case NotAssessableReason::kTooFewPooledYears:
      *zh = absl::StrFormat(
          "%s事件数少，须按连续%d年合并计算，目前完整的合并期不足两个，暂无法评估进展。", s,
          w.opt.pool_years);
      *en = absl::StrFormat(
          "%s rests on few events and is pooled over %d consecutive years; fewer than two "
          "full periods exist yet, so progress cannot be assessed.",
          se, w.opt.pool_years);
      return;
    case NotAssessableReason::kNoComparisonSeries:
      *zh = s + (w.a.target.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE
                     ? "缺少城镇或农村的数据，无法计算差距。"
                     : "缺少女性或男性的数据，无法计算差距。");
      *en = se + " cannot be computed: one of the two groups has no data.";
      return;
    default:
      *zh = absl::StrFormat("%s自%d年以来尚无数据，无法评估。", s, w.opt.base_year);
      *en = absl::StrFormat("%s has no data since %d and cannot be assessed.", se, w.opt.base_year);
      return;
  }
}

void RuleBrokenSentences(const Words& w, std::string* zh, std::string* en) {
  std::vector<std::string> zh_years;
  std::vector<std::string> en_years;
  const bool decrease = w.a.target.comparator() == v1::COMPARATOR_DECREASE_EACH_YEAR;
  for (const Assessment::BrokenYear& b : w.a.broken_years) {
    if (decrease && b.previous_value.has_value()) {
      zh_years.push_back(
          absl::StrFormat("%s（%s→%s）", w.L(b.year), w.V(*b.previous_value), w.V(b.value)));
      en_years.push_back(
          absl::StrFormat("%s (%s → %s)", w.LEn(b.year), w.VEn(*b.previous_value), w.VEn(b.value)));
    } else {
      zh_years.push_back(absl::StrFormat("%s（%s）", w.L(b.year), w.V(b.value)));
      en_years.push_back(absl::StrFormat("%s (%s)", w.LEn(b.year), w.VEn(b.value)));
    }
  }
  const std::string s = w.Subject();
  const std::string se = w.SubjectEn();
  if (decrease) {
    *zh = absl::StrFormat("%s应逐年降低，但%s比上年上升。", s, absl::StrJoin(zh_years, "、"));
    *en = absl::StrFormat("%s must fall every year but rose in %s.", se,
                          absl::StrJoin(en_years, ", "));
    return;
  }
  *zh = absl::StrFormat("%s应每年保持%s，但%s未达到。", s, w.TT(), absl::StrJoin(zh_years, "、"));
  *en = absl::StrFormat("%s must stay %s every year but did not in %s.", se, w.TTEn(),
                        absl::StrJoin(en_years, ", "));
}

void FewEventsNote(const Words& w, std::string* zh, std::string* en) {
  const v1::Figures& f = w.a.figures;
  std::string note_zh;
  std::string note_en;
  if (f.has_interval() && f.has_current_value()) {
    note_zh =
        absl::StrFormat("（事件数少：按%d年合并计算，%s共%s例，%s%%置信区间为%s—%s，结论仅供参考）",
                        w.opt.pool_years, w.L(f.current_year()), Count(f.event_count()),
                        LevelPercent(f.interval().level()), Number(w.ind, f.interval().lower()),
                        w.V(f.interval().upper()));
    note_en = absl::StrFormat(
        " (few events: pooled over %d years, %s in %s, %s%% interval %s–%s; read with "
        "caution)",
        w.opt.pool_years, Events(f.event_count()), w.LEn(f.current_year()),
        LevelPercent(f.interval().level()), Number(w.ind, f.interval().lower()),
        w.VEn(f.interval().upper()));
  } else {
    note_zh = absl::StrFormat("（事件数少：按%d年合并计算，结论仅供参考）", w.opt.pool_years);
    note_en =
        absl::StrFormat(" (few events: pooled over %d years; read with caution)", w.opt.pool_years);
  }
  const std::string period = "。";
  if (zh->size() >= period.size() &&
      zh->compare(zh->size() - period.size(), period.size(), period) == 0) {
    zh->resize(zh->size() - period.size());
  }
  *zh += note_zh + period;
  if (!en->empty() && en->back() == '.') {
    en->pop_back();
  }
  *en += note_en + ".";
}

void ProgressSentences(const Words& w, std::string* zh, std::string* en) {
  const Assessment& a = w.a;
  const v1::Figures& f = a.figures;
  const std::string s = w.Subject();
  const std::string se = w.SubjectEn();
  const int t = f.current_year();
  const int t0 = f.base_year();
  const int big_t = f.target_year();
  const double r = f.actual_annual_rate();
  const bool flat = FormatPercent(r) == "0.0";

  if (!a.target.has_value()) {
    // Targets without a number: the rate itself against the no-target bands.
    std::string judgement;
    std::string judgement_en;
    const std::string goal = w.TT();
    switch (a.status) {
      case v1::PROGRESS_STATUS_ON_TRACK:
        judgement = "进展良好";
        judgement_en = "on track";
        break;
      case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
        judgement = "进展偏慢，需加快进度";
        judgement_en = "too slow, progress needs to accelerate";
        break;
      case v1::PROGRESS_STATUS_AT_RISK:
        judgement = "进展缓慢，预计难以实现" + goal + "的目标";
        judgement_en = "progress is limited and the target (" + w.TTEn() + ") is at risk";
        break;
      default:
        judgement = "呈逆向变化，与" + goal + "的目标方向相反";
        judgement_en = "it is moving away from the target (" + w.TTEn() + ")";
        break;
    }
    const std::string trend = flat ? absl::StrFormat("%s基本持平", w.Range(t0, t))
                                   : absl::StrFormat("%s年均%s%s%%", w.Range(t0, t),
                                                     r < 0 ? w.Down() : w.Up(), FormatPercent(r));
    const std::string trend_en =
        flat ? absl::StrFormat("it was about flat over %s", w.RangeEn(t0, t))
             : absl::StrFormat("it %s %s%% a year over %s", r < 0 ? w.FellEn() : w.RoseEn(),
                               FormatPercent(r), w.RangeEn(t0, t));
    *zh =
        absl::StrFormat("%s%s为%s，%s，%s。", s, w.L(t), w.V(f.current_value()), trend, judgement);
    *en = absl::StrFormat("%s was %s in %s; %s: %s.", se, w.VEn(f.current_value()), w.LEn(t),
                          trend_en, judgement_en);
    return;
  }

  std::string head;
  std::string head_en;
  if (a.warning_kind == v1::WARNING_KIND_SLIPPED) {
    head = absl::StrFormat("%s%s曾达到%s的目标，%s回落为%s", s, w.L(a.slipped_from_year), w.TT(),
                           w.L(t), w.V(f.current_value()));
    head_en =
        absl::StrFormat("%s had met the target %s in %s but slipped back to %s in %s", se, w.TTEn(),
                        w.LEn(a.slipped_from_year), w.VEn(f.current_value()), w.LEn(t));
  } else {
    head = absl::StrFormat("%s%s为%s", s, w.L(t), w.V(f.current_value()));
    head_en = absl::StrFormat("%s was %s in %s", se, w.VEn(f.current_value()), w.LEn(t));
  }
  if (a.warning_kind == v1::WARNING_KIND_OUT_OF_BAND) {
    head += absl::StrFormat("，不在%s（%s）的目标范围内", w.TT(), w.Band());
    head_en += absl::StrFormat(", outside the target band %s (%s)", w.TTEn(), w.BandEn());
  }
  const std::string trend = flat ? absl::StrFormat("按%s基本持平的趋势", w.Range(t0, t))
                                 : absl::StrFormat("按%s年均%s%s%%的速度", w.Range(t0, t),
                                                   r < 0 ? w.Down() : w.Up(), FormatPercent(r));
  const std::string trend_en =
      flat ? absl::StrFormat("at the flat trend of %s", w.RangeEn(t0, t))
           : absl::StrFormat(
                 "at the %s average annual %s of %s%%", w.RangeEn(t0, t),
                 r < 0 ? (w.gap ? "narrowing" : "decline") : (w.gap ? "widening" : "increase"),
                 FormatPercent(r));
  const double projected = f.projected_value();
  const bool reaches = Meets(a.target, w.opt, projected);
  std::string sentence = absl::StrFormat("%s，%s，%d年预计为%s，%s%s的目标", head, trend, big_t,
                                         w.V(projected), reaches ? "可以达到" : "达不到", w.TT());
  std::string sentence_en =
      absl::StrFormat("%s; %s, it is projected at %s in %d, %s the target %s", head_en, trend_en,
                      w.VEn(projected), big_t, reaches ? "reaching" : "short of", w.TTEn());
  if (f.has_required_annual_rate()) {
    const double q = f.required_annual_rate();
    if (FormatPercent(q) == "0.0") {
      sentence += "，今后只需保持现有水平";
      sentence_en += "; holding the current level is enough";
    } else {
      sentence +=
          absl::StrFormat("，今后每年需%s%s%%", q < 0 ? w.Down() : w.Up(), FormatPercent(q));
      sentence_en += absl::StrFormat("; it must %s %s%% a year from now on",
                                     q < 0 ? w.DownEn() : w.UpEn(), FormatPercent(q));
    }
  }
  *zh = sentence + "。";
  *en = sentence_en + ".";
}

}  // namespace

std::string FormatFigureZh(const Indicator& indicator, double value) {
  return Number(indicator, value) + indicator.unit();
}

std::string FormatFigureEn(const Indicator& indicator, double value) {
  return Number(indicator, value) + UnitEn(indicator.unit());
}

std::string FormatPercent(double fraction) { return Fixed(std::fabs(fraction) * 100, 1); }

std::string FormatTargetValue(double value) { return absl::StrFormat("%.6g", value); }

std::string TargetTextZh(const Indicator& indicator, const Target& target) {
  const Comparator cmp = target.comparator();
  const bool gap = cmp == v1::COMPARATOR_NARROW_GAP;
  const std::string unit = gap ? DiffUnitZh(indicator.unit()) : indicator.unit();
  if (!target.has_value()) {
    switch (cmp) {
      case v1::COMPARATOR_INCREASE:
        return "逐步提高";
      case v1::COMPARATOR_DECREASE:
        return "逐步降低";
      case v1::COMPARATOR_DECREASE_EACH_YEAR:
        return "逐年降低";
      case v1::COMPARATOR_NARROW_GAP:
        return "差距缩小";
      default:
        return "";
    }
  }
  const std::string v = FormatTargetValue(target.value()) + unit;
  switch (cmp) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_INCREASE:
      return "≥" + v;
    case v1::COMPARATOR_BELOW:
      return "<" + v;
    case v1::COMPARATOR_ABOUT:
      return v + "左右";
    default:
      return "≤" + v;
  }
}

std::string TargetTextEn(const Indicator& indicator, const Target& target) {
  const Comparator cmp = target.comparator();
  const bool gap = cmp == v1::COMPARATOR_NARROW_GAP;
  const std::string unit = gap ? DiffUnitEn(indicator.unit()) : UnitEn(indicator.unit());
  if (!target.has_value()) {
    switch (cmp) {
      case v1::COMPARATOR_INCREASE:
        return "a steady increase";
      case v1::COMPARATOR_DECREASE:
        return "a steady decrease";
      case v1::COMPARATOR_DECREASE_EACH_YEAR:
        return "a decrease every year";
      case v1::COMPARATOR_NARROW_GAP:
        return "a narrowing gap";
      default:
        return "";
    }
  }
  const std::string v = FormatTargetValue(target.value()) + unit;
  switch (cmp) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_INCREASE:
      return "≥" + v;
    case v1::COMPARATOR_BELOW:
      return "<" + v;
    case v1::COMPARATOR_ABOUT:
      return "about " + v;
    default:
      return "≤" + v;
  }
}

void ExplainAssessment(const Indicator& indicator, const MethodOptions& options,
                       Assessment* assessment) {
  const Assessment& a = *assessment;
  Words w{indicator, options, a, a.target.comparator() == v1::COMPARATOR_NARROW_GAP};
  const v1::Figures& f = a.figures;
  const std::string s = w.Subject();
  const std::string se = w.SubjectEn();
  std::string zh;
  std::string en;
  const int t = f.current_year();
  const int big_t = f.target_year();
  switch (a.status) {
    case v1::PROGRESS_STATUS_NOT_ASSESSABLE:
      NotAssessableSentences(w, &zh, &en);
      break;
    case v1::PROGRESS_STATUS_ACHIEVED:
      if (w.gap && f.current_value() == 0) {
        zh = absl::StrFormat("%s%s为0，差距已消除。", s, w.L(t));
        en = absl::StrFormat("%s was 0 in %s: the gap is closed.", se, w.LEn(t));
      } else if (!a.target.has_value()) {
        zh = absl::StrFormat("%s%s为%s，较%s的%s%s，实现了%s的目标。", s, w.L(t),
                             w.V(f.current_value()), w.L(f.base_year()), w.V(f.base_value()),
                             f.actual_annual_rate() < 0 ? w.Down() : w.Up(), w.TT());
        en = absl::StrFormat("%s was %s in %s, against %s in %s: the target (%s) is met.", se,
                             w.VEn(f.current_value()), w.LEn(t), w.VEn(f.base_value()),
                             w.LEn(f.base_year()), w.TTEn());
      } else if (big_t == 0) {
        zh = absl::StrFormat("%s%s为%s，%s以来各年均符合%s的要求。", s, w.L(t),
                             w.V(f.current_value()), w.L(f.base_year()), w.TT());
        en = absl::StrFormat("%s was %s in %s and has met %s in every year since %s.", se,
                             w.VEn(f.current_value()), w.LEn(t), w.TTEn(), w.LEn(f.base_year()));
      } else if (t < big_t) {
        zh = absl::StrFormat("%s%s为%s，已提前实现%d年%s的目标。", s, w.L(t),
                             w.V(f.current_value()), big_t, w.TT());
        en = absl::StrFormat("%s was %s in %s, already meeting the %d target %s ahead of time.", se,
                             w.VEn(f.current_value()), w.LEn(t), big_t, w.TTEn());
      } else {
        zh = absl::StrFormat("%s%s为%s，实现了%d年%s的目标。", s, w.L(t), w.V(f.current_value()),
                             big_t, w.TT());
        en = absl::StrFormat("%s was %s in %s, meeting the %d target %s.", se,
                             w.VEn(f.current_value()), w.LEn(t), big_t, w.TTEn());
      }
      break;
    case v1::PROGRESS_STATUS_MISSED:
      if (a.warning_kind == v1::WARNING_KIND_RULE_BROKEN) {
        RuleBrokenSentences(w, &zh, &en);
      } else if (a.warning_kind == v1::WARNING_KIND_OUT_OF_BAND && big_t == 0 &&
                 !a.broken_years.empty() &&
                 !(a.broken_years.size() == 1 && a.broken_years[0].year == t)) {
        // Every year must be in the band: name each year that was not
        // (when only the latest was not, the sentence below says it).
        std::vector<std::string> zh_years;
        std::vector<std::string> en_years;
        for (const Assessment::BrokenYear& b : a.broken_years) {
          zh_years.push_back(absl::StrFormat("%s（%s）", w.L(b.year), w.V(b.value)));
          en_years.push_back(absl::StrFormat("%s (%s)", w.LEn(b.year), w.VEn(b.value)));
        }
        zh = absl::StrFormat("%s应各年保持在%s（%s），%s为%s，但%s不在该范围内。", s, w.TT(),
                             w.Band(), w.L(t), w.V(f.current_value()),
                             absl::StrJoin(zh_years, "、"));
        en = absl::StrFormat(
            "%s must stay %s (%s) every year; it was %s in %s, but outside the band in %s.", se,
            w.TTEn(), w.BandEn(), w.VEn(f.current_value()), w.LEn(t),
            absl::StrJoin(en_years, ", "));
      } else if (a.warning_kind == v1::WARNING_KIND_OUT_OF_BAND) {
        zh = absl::StrFormat("%s%s为%s，不在%s（%s）的目标范围内。", s, w.L(t),
                             w.V(f.current_value()), w.TT(), w.Band());
        en = absl::StrFormat("%s was %s in %s, outside the target band %s (%s).", se,
                             w.VEn(f.current_value()), w.LEn(t), w.TTEn(), w.BandEn());
      } else if (a.target.has_value()) {
        zh = absl::StrFormat("%s%s为%s，未达到%d年%s的目标。", s, w.L(t), w.V(f.current_value()),
                             big_t, w.TT());
        en = absl::StrFormat("%s was %s in %s, missing the %d target %s.", se,
                             w.VEn(f.current_value()), w.LEn(t), big_t, w.TTEn());
      } else {
        zh = absl::StrFormat("%s%s为%s，较%s的%s未能%s，未实现%s的目标。", s, w.L(t),
                             w.V(f.current_value()), w.L(f.base_year()), w.V(f.base_value()),
                             GoalVerbZh(a.target.comparator()), w.TT());
        en = absl::StrFormat("%s was %s in %s, against %s in %s: it did not %s (target: %s).", se,
                             w.VEn(f.current_value()), w.LEn(t), w.VEn(f.base_value()),
                             w.LEn(f.base_year()), GoalVerbEn(a.target.comparator()), w.TTEn());
      }
      break;
    case v1::PROGRESS_STATUS_ON_TRACK:
    case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
    case v1::PROGRESS_STATUS_AT_RISK:
    case v1::PROGRESS_STATUS_MOVING_AWAY:
      ProgressSentences(w, &zh, &en);
      break;
    default:
      break;
  }
  if (a.pooled && a.status != v1::PROGRESS_STATUS_NOT_ASSESSABLE) {
    FewEventsNote(w, &zh, &en);
  }
  assessment->explanation_zh = std::move(zh);
  assessment->explanation_en = std::move(en);
}

void ExplainFluctuation(const Indicator& indicator, const MethodOptions& options,
                        FluctuationResult* result) {
  const FluctuationResult& r = *result;
  const v1::Figures& f = r.figures;
  const std::string& s = indicator.name_zh();
  const std::string& se = indicator.name_en();
  if (indicator.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
    result->explanation_zh = s + "为定性指标，不判断数值波动。";
    result->explanation_en = se + " is qualitative: no numeric fluctuation test.";
    return;
  }
  if (r.method == FluctuationMethod::kNone) {
    if (f.has_current_value()) {
      result->explanation_zh =
          absl::StrFormat("%s仅有%d年一年数据，无法判断波动。", s, f.current_year());
      result->explanation_en = absl::StrFormat(
          "%s has data for %d only; fluctuation cannot be judged.", se, f.current_year());
    } else {
      result->explanation_zh = s + "暂无数据，无法判断波动。";
      result->explanation_en = se + " has no data; fluctuation cannot be judged.";
    }
    return;
  }
  const double delta = f.current_value() - f.base_value();
  const std::string since_zh =
      f.base_year() == f.current_year() - 1 ? "比上年" : absl::StrFormat("比%d年", f.base_year());
  const std::string since_en = f.base_year() == f.current_year() - 1
                                   ? "on the year before"
                                   : absl::StrFormat("on %d", f.base_year());
  std::vector<std::string> zh;
  std::vector<std::string> en;
  zh.push_back(absl::StrFormat("%s%d年为%s", s, f.current_year(),
                               FormatFigureZh(indicator, f.current_value())));
  en.push_back(absl::StrFormat("%s was %s in %d", se, FormatFigureEn(indicator, f.current_value()),
                               f.current_year()));
  if (Number(indicator, std::fabs(delta)) == Number(indicator, 0)) {
    zh.push_back(since_zh + "基本持平");
    en.push_back("about flat " + since_en);
  } else {
    zh.push_back(absl::StrFormat("%s%s%s%s", since_zh, delta < 0 ? "下降" : "上升",
                                 Number(indicator, std::fabs(delta)),
                                 DiffUnitZh(indicator.unit())));
    en.push_back(absl::StrFormat("%s %s%s %s", delta < 0 ? "down" : "up",
                                 Number(indicator, std::fabs(delta)), DiffUnitEn(indicator.unit()),
                                 since_en));
  }
  if (r.method == FluctuationMethod::kModifiedZScore) {
    zh.push_back(absl::StrFormat("修正z分数为%s，%s%s", Fixed(f.modified_z_score(), 1),
                                 r.exceeds_threshold ? "超过" : "未超过",
                                 absl::StrFormat("%g", r.threshold)));
    en.push_back(absl::StrFormat("modified z-score %s, %s %g", Fixed(f.modified_z_score(), 1),
                                 r.exceeds_threshold ? "above" : "not above", r.threshold));
  } else if (r.relative_change.has_value()) {
    const bool annualised = r.gap_years > 1;
    zh.push_back(absl::StrFormat("%s变化幅度%s%%，%s%s%%的波动阈值",
                                 annualised ? absl::StrFormat("间隔%d年，年均", r.gap_years) : "",
                                 FormatPercent(*r.relative_change),
                                 r.exceeds_threshold ? "超过" : "未超过",
                                 absl::StrFormat("%g", r.threshold * 100)));
    en.push_back(absl::StrFormat(
        "a change of %s%%%s, %s the %g%% threshold", FormatPercent(*r.relative_change),
        annualised ? absl::StrFormat(" a year over %d years", r.gap_years) : "",
        r.exceeds_threshold ? "above" : "not above", r.threshold * 100));
  } else {
    zh.push_back("上年数值为0，无法计算变化幅度");
    en.push_back("the previous value was 0, so no relative change can be computed");
  }
  if (f.few_events() && f.has_interval()) {
    std::string interval_zh =
        absl::StrFormat("该年仅%s例，%s%%置信区间为%s—%s", Count(f.event_count()),
                        LevelPercent(f.interval().level()), Number(indicator, f.interval().lower()),
                        FormatFigureZh(indicator, f.interval().upper()));
    std::string interval_en = absl::StrFormat(
        "with only %s that year, its %s%% interval is %s–%s", Events(f.event_count()),
        LevelPercent(f.interval().level()), Number(indicator, f.interval().lower()),
        FormatFigureEn(indicator, f.interval().upper()));
    if (r.previous_pooled_value.has_value()) {
      interval_zh +=
          absl::StrFormat("，%s此前%d年合并率%s", r.explained_by_interval ? "包含" : "不包含",
                          options.pool_years, FormatFigureZh(indicator, *r.previous_pooled_value));
      interval_en +=
          absl::StrFormat(", which %s the pooled rate of the %d years before (%s)",
                          r.explained_by_interval ? "contains" : "excludes", options.pool_years,
                          FormatFigureEn(indicator, *r.previous_pooled_value));
    }
    zh.push_back(interval_zh);
    en.push_back(interval_en);
  }
  if (r.warns) {
    zh.push_back(f.few_events() ? "波动较大（结论基于少量事件）" : "波动较大");
    en.push_back(f.few_events() ? "a strong fluctuation (resting on few events)"
                                : "a strong fluctuation");
  } else if (r.exceeds_threshold && r.explained_by_interval) {
    zh.push_back("变化可由少量事件的随机波动解释，不视为波动较大");
    en.push_back("chance in few events explains the change, so it is not a strong fluctuation");
  } else {
    zh.push_back("属正常波动");
    en.push_back("within normal variation");
  }
  result->explanation_zh = absl::StrJoin(zh, "，") + "。";
  result->explanation_en = absl::StrJoin(en, ", ") + ".";
}

}  // namespace halfsky::evaluation
