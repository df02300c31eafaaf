#include "common/catalog/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/catalog/progress_bands.h"
#include "common/catalog/rules/rules.h"

namespace halfsky {
namespace catalog_internal {
namespace {

bool IsUpperId(const std::string& s) {
  if (s.empty() || !absl::ascii_isupper(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(absl::ascii_isupper(u) || absl::ascii_isdigit(u) || c == '_')) {
      return false;
    }
  }
  return true;
}

// "<DOMAIN>-<suffix>" where suffix is [A-Z0-9]+ (e.g. HEALTH-01, HEALTH-O01).
bool IsChildId(const std::string& id, const std::string& domain_id) {
  if (!absl::StartsWith(id, domain_id + "-")) {
    return false;
  }
  const std::string suffix = id.substr(domain_id.size() + 1);
  if (suffix.empty()) {
    return false;
  }
  for (char c : suffix) {
    const auto u = static_cast<unsigned char>(c);
    if (!(absl::ascii_isupper(u) || absl::ascii_isdigit(u))) {
      return false;
    }
  }
  return true;
}

bool IsAreaCode(const std::string& s) {
  if (s.size() < 6 || s.size() > 15) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// The part of a parent's code its children's codes start with: a 6-digit
// province or city code without its trailing "00" pairs (610000 → 61,
// 610300 → 6103); any other code whole (610303 → 610303).
std::string SignificantPrefix(const std::string& code) {
  std::string p = code;
  if (p.size() == 6) {
    while (p.size() > 2 && absl::EndsWith(p, "00")) {
      p.resize(p.size() - 2);
    }
  }
  return p;
}

bool IsBlank(const std::string& s) { return absl::StripAsciiWhitespace(s).empty(); }

int DaysInMonth(int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month - 1];
}

// Problems of a month/day pair; "" if fine. February 29 is rejected: not
// every data year has one.
std::string DueDateProblem(int year_offset, int month, int day) {
  if (year_offset < 0 || year_offset > 2) {
    return absl::StrFormat("截止日期年份偏移 %d 超出 0—2 / due date year_offset %d outside 0..2",
                           year_offset, year_offset);
  }
  if (month < 1 || month > 12) {
    return absl::StrFormat("截止日期月份 %d 无效 / due date month %d outside 1..12", month, month);
  }
  if (day < 1 || day > DaysInMonth(month)) {
    return absl::StrFormat("截止日期 %d月%d日 无效 / due date day %d invalid for month %d", month,
                           day, day, month);
  }
  return "";
}

enum class Side { kNeutral, kHigher, kLower };

Side ComparatorSide(v1::Comparator c) {
  switch (c) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_INCREASE:
      return Side::kHigher;
    case v1::COMPARATOR_AT_MOST:
    case v1::COMPARATOR_BELOW:
    case v1::COMPARATOR_DECREASE:
    case v1::COMPARATOR_DECREASE_EACH_YEAR:
    case v1::COMPARATOR_MAINTAIN_AT_MOST:
      return Side::kLower;
    default:
      return Side::kNeutral;
  }
}

bool NeedsValue(v1::Comparator c) {
  switch (c) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_AT_MOST:
    case v1::COMPARATOR_ABOUT:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_BELOW:
    case v1::COMPARATOR_MAINTAIN_AT_MOST:
      return true;
    default:
      return false;
  }
}

bool ForbidsValue(v1::Comparator c) {
  return c == v1::COMPARATOR_INCREASE || c == v1::COMPARATOR_DECREASE ||
         c == v1::COMPARATOR_DECREASE_EACH_YEAR;
}

bool NeedsEveryYear(v1::Comparator c) {
  return c == v1::COMPARATOR_MAINTAIN_AT_LEAST || c == v1::COMPARATOR_MAINTAIN_AT_MOST ||
         c == v1::COMPARATOR_DECREASE_EACH_YEAR;
}

std::string Fmt(double v) { return absl::StrFormat("%g", v); }

class Validator {
 public:
  Validator(const v1::Catalog& catalog, const CatalogLocations* locations)
      : c_(catalog), locs_(locations) {}

  std::vector<CatalogProblem> Run() {
    CheckHeader();
    CheckUnits();
    CheckAreas();
    CheckPlans();
    CheckDomains();
    CheckObjectives();
    CheckIndicators();
    CheckStatistics();
    CheckCoverage();
    CheckRules();
    return std::move(problems_);
  }

 private:
  SourceLoc At(const std::vector<SourceLoc>* v, int i) const {
    if (locs_ == nullptr || v == nullptr || i < 0 || i >= static_cast<int>(v->size())) {
      return CatalogLoc();
    }
    return (*v)[i];
  }
  SourceLoc CatalogLoc() const { return locs_ == nullptr ? SourceLoc{} : locs_->catalog; }
  SourceLoc HeaderLoc(const std::string& field) const {
    if (locs_ == nullptr) {
      return SourceLoc{};
    }
    auto it = locs_->header.find(field);
    return it == locs_->header.end() ? locs_->catalog : it->second;
  }
  SourceLoc DomainLoc(int i) const { return At(locs_ ? &locs_->domains : nullptr, i); }
  SourceLoc ObjectiveLoc(int i) const { return At(locs_ ? &locs_->objectives : nullptr, i); }
  SourceLoc IndicatorLoc(int i) const { return At(locs_ ? &locs_->indicators : nullptr, i); }
  SourceLoc UnitLoc(int i) const { return At(locs_ ? &locs_->member_units : nullptr, i); }
  SourceLoc AreaLoc(int i) const { return At(locs_ ? &locs_->areas : nullptr, i); }
  SourceLoc RuleLoc(int i) const { return At(locs_ ? &locs_->validation_rules : nullptr, i); }
  SourceLoc TargetLoc(int ind, int t) const {
    if (locs_ == nullptr || ind >= static_cast<int>(locs_->targets.size()) ||
        t >= static_cast<int>(locs_->targets[ind].size())) {
      return IndicatorLoc(ind);
    }
    return locs_->targets[ind][t];
  }

  void Add(const SourceLoc& loc, const std::string& id, std::string message) {
    CatalogProblem p;
    p.file = loc.file;
    p.line = loc.line;
    p.id = id;
    p.message = std::move(message);
    problems_.push_back(std::move(p));
  }

  // --- catalog header -------------------------------------------------

  void CheckHeader() {
    if (IsBlank(c_.version())) {
      Add(HeaderLoc("version"), "", "缺少目录版本 / missing version");
    }
    if (IsBlank(c_.plan_title_zh())) {
      Add(HeaderLoc("plan_title_zh"), "", "缺少规划名称 / missing plan_title_zh");
    }
    const int base = c_.base_year(), mid = c_.midterm_year(), fin = c_.final_year();
    if (base == 0 || mid == 0 || fin == 0) {
      Add(CatalogLoc(), "",
          "缺少基期、中期或终期年份 / base_year, midterm_year and final_year are required");
    } else if (!(base < mid && mid < fin)) {
      Add(HeaderLoc("final_year"), "",
          absl::StrFormat("年份顺序错误 / years must satisfy base_year < midterm_year < "
                          "final_year (got %d, %d, %d)",
                          base, mid, fin));
    }
    if (c_.has_calendar() && c_.calendar().has_default_due_date()) {
      const auto& d = c_.calendar().default_due_date();
      std::string p = DueDateProblem(d.year_offset(), d.month(), d.day());
      if (!p.empty()) {
        Add(HeaderLoc("calendar"), "", "报送日历：" + p);
      }
    }
    if (c_.has_progress_bands()) {
      std::string p = ProgressBandsProblem(ResolveProgressBands(c_.progress_bands()));
      if (!p.empty()) {
        Add(HeaderLoc("progress_bands"), "", p);
      }
    }
    if (c_.domains().empty()) {
      Add(CatalogLoc(), "", "目录没有领域 / catalog has no domains");
    }
    if (c_.indicators().empty()) {
      Add(CatalogLoc(), "", "目录没有指标 / catalog has no indicators");
    }
    if (c_.member_units().empty()) {
      Add(CatalogLoc(), "", "目录没有成员单位 / catalog has no member units");
    }
    if (c_.areas().empty()) {
      Add(CatalogLoc(), "", "目录没有区域 / catalog has no areas");
    }
  }

  int FirstYear() const { return c_.base_year() > 0 ? c_.base_year() + 1 : 2021; }
  int LastYear() const { return c_.final_year() > 0 ? c_.final_year() : 2030; }

  // --- member units ---------------------------------------------------

  void CheckUnits() {
    for (int i = 0; i < c_.member_units_size(); ++i) {
      const auto& u = c_.member_units(i);
      const SourceLoc loc = UnitLoc(i);
      if (u.code().empty()) {
        Add(loc, "", "成员单位缺少代码 / member unit without code");
        continue;
      }
      if (!IsUpperId(u.code())) {
        Add(loc, u.code(),
            "成员单位代码须为大写字母、数字和下划线 / unit code must match [A-Z][A-Z0-9_]*");
      }
      if (!units_.insert(u.code()).second) {
        Add(loc, u.code(), "成员单位代码重复 / duplicate member unit code");
      }
      if (IsBlank(u.name_zh())) {
        Add(loc, u.code(), "成员单位缺少中文名称 / member unit without name_zh");
      }
      if (IsBlank(u.name_en())) {
        Add(loc, u.code(), "成员单位缺少英文名称 / member unit without name_en");
      }
    }
  }

  // --- areas ------------------------------------------------------------

  void CheckAreas() {
    absl::flat_hash_map<std::string, int> index;
    for (int i = 0; i < c_.areas_size(); ++i) {
      const auto& a = c_.areas(i);
      const SourceLoc loc = AreaLoc(i);
      if (a.code().empty()) {
        Add(loc, "", "区域缺少代码 / area without code");
        continue;
      }
      if (!IsAreaCode(a.code())) {
        Add(loc, a.code(), "区域代码须为6—15位数字 / area code must be 6 to 15 digits");
      }
      if (!index.emplace(a.code(), i).second) {
        Add(loc, a.code(), "区域代码重复 / duplicate area code");
      }
      if (IsBlank(a.name_zh())) {
        Add(loc, a.code(), "区域缺少中文名称 / area without name_zh");
      }
      if (a.level() == v1::AREA_LEVEL_UNSPECIFIED || !v1::AreaLevel_IsValid(a.level())) {
        Add(loc, a.code(), "区域缺少层级 / area without a valid level");
      }
      if (a.residence() != v1::RESIDENCE_URBAN && a.residence() != v1::RESIDENCE_RURAL) {
        Add(loc, a.code(),
            "区域须标明城镇或农村 / area residence must be RESIDENCE_URBAN or RESIDENCE_RURAL");
      }
    }
    std::vector<int> roots;
    for (int i = 0; i < c_.areas_size(); ++i) {
      const auto& a = c_.areas(i);
      if (a.code().empty()) {
        continue;
      }
      const SourceLoc loc = AreaLoc(i);
      if (a.parent_code().empty()) {
        roots.push_back(i);
        if (Tier(a.level()) < Tier(v1::AREA_LEVEL_DISTRICT) &&
            a.level() != v1::AREA_LEVEL_UNSPECIFIED) {
          Add(loc, a.code(),
              "根区域须为省、市或县（区）级 / the root area must be a province, city, county or "
              "district");
        }
        continue;
      }
      if (a.parent_code() == a.code()) {
        Add(loc, a.code(), "区域的上级是它自己 / area is its own parent");
        continue;
      }
      auto it = index.find(a.parent_code());
      if (it == index.end()) {
        Add(loc, a.code(),
            absl::StrCat("上级区域 ", a.parent_code(), " 不存在 / parent area ", a.parent_code(),
                         " is missing"));
        continue;
      }
      const auto& parent = c_.areas(it->second);
      const std::string prefix = SignificantPrefix(parent.code());
      if (!absl::StartsWith(a.code(), prefix) || a.code() == parent.code()) {
        Add(loc, a.code(),
            absl::StrCat("区域代码须以上级代码 ", parent.code(),
                         " 开头 / area code must start "
                         "with its parent's code ",
                         parent.code(), prefix != parent.code() ? " (" + prefix + "…)" : ""));
      }
      if (!LevelFits(parent.level(), a.level())) {
        Add(loc, a.code(),
            absl::StrCat("区域层级 ", v1::AreaLevel_Name(a.level()), " 不能隶属于 ",
                         v1::AreaLevel_Name(parent.level()), " / level ",
                         v1::AreaLevel_Name(a.level()), " cannot be under ",
                         v1::AreaLevel_Name(parent.level())));
      }
    }
    if (!c_.areas().empty() && roots.empty()) {
      Add(AreaLoc(0), "",
          "区域树没有根（无上级的区域） / area tree has no root (area without parent)");
    }
    for (size_t r = 1; r < roots.size(); ++r) {
      Add(AreaLoc(roots[r]), c_.areas(roots[r]).code(),
          absl::StrCat("区域树只能有一个根，已有 ", c_.areas(roots[0]).code(),
                       " / more than one root area (first root is ", c_.areas(roots[0]).code(),
                       ")"));
    }
    // Cycles: walk up from every area; an area that does not reach a root
    // within N steps is on or under a cycle.
    const int n = c_.areas_size();
    for (int i = 0; i < n; ++i) {
      const auto& a = c_.areas(i);
      if (a.code().empty() || a.parent_code().empty() || a.parent_code() == a.code()) {
        continue;
      }
      int cur = i;
      int steps = 0;
      bool broken = false;
      bool cycle = false;
      while (true) {
        const auto& ca = c_.areas(cur);
        if (ca.parent_code().empty()) {
          break;
        }
        auto it = index.find(ca.parent_code());
        if (it == index.end()) {
          broken = true;  // reported as a missing parent
          break;
        }
        cur = it->second;
        if (++steps > n) {
          cycle = true;
          break;
        }
      }
      if (cycle && !broken) {
        Add(AreaLoc(i), a.code(), "区域的上级关系成环 / area parent chain forms a cycle");
      }
    }
  }

  // Province 5, city 4, county/district 3, town/subdistrict 2,
  // village/community 1; 0 unspecified.
  static int Tier(v1::AreaLevel level) {
    switch (level) {
      case v1::AREA_LEVEL_PROVINCE:
        return 5;
      case v1::AREA_LEVEL_CITY:
        return 4;
      case v1::AREA_LEVEL_DISTRICT:
      case v1::AREA_LEVEL_COUNTY:
        return 3;
      case v1::AREA_LEVEL_TOWN:
      case v1::AREA_LEVEL_SUBDISTRICT:
        return 2;
      case v1::AREA_LEVEL_VILLAGE:
      case v1::AREA_LEVEL_COMMUNITY:
        return 1;
      default:
        return 0;
    }
  }

  // A child is one tier below its parent; a county or district may also sit
  // directly under a province (省直辖县级行政区).
  static bool LevelFits(v1::AreaLevel parent, v1::AreaLevel child) {
    const int p = Tier(parent), c = Tier(child);
    if (p == 0 || c == 0) {
      return true;  // unspecified: reported elsewhere
    }
    return c == p - 1 || (c == 3 && p == 5);
  }

  // --- plans ------------------------------------------------------------

  void CheckPlans() {
    absl::flat_hash_map<std::string, int> area_index;
    for (int i = 0; i < c_.areas_size(); ++i) {
      area_index.emplace(c_.areas(i).code(), i);
    }
    absl::flat_hash_map<std::string, int> plan_of_area;
    for (int i = 0; i < c_.plans_size(); ++i) {
      const auto& p = c_.plans(i);
      const SourceLoc loc = PlanLoc(i);
      if (p.code().empty()) {
        Add(loc, "", "规划缺少代码 / plan without code");
        continue;
      }
      if (!IsUpperId(p.code())) {
        Add(loc, p.code(),
            "规划代码须为大写字母、数字和下划线 / plan code must match [A-Z][A-Z0-9_]*");
      }
      if (!plans_.emplace(p.code(), i).second) {
        Add(loc, p.code(), "规划代码重复 / duplicate plan code");
        continue;
      }
      if (IsBlank(p.title_zh())) {
        Add(loc, p.code(), "规划缺少中文名称 / plan without title_zh");
      }
      const int base = p.base_year() != 0 ? p.base_year() : c_.base_year();
      const int mid = p.midterm_year() != 0 ? p.midterm_year() : c_.midterm_year();
      const int fin = p.final_year() != 0 ? p.final_year() : c_.final_year();
      if (base != 0 && mid != 0 && fin != 0 && !(base < mid && mid < fin)) {
        Add(loc, p.code(),
            absl::StrFormat("规划年份顺序错误 / plan years must satisfy base_year < midterm_year "
                            "< final_year (got %d, %d, %d)",
                            base, mid, fin));
      }
      auto it = area_index.find(p.area_code());
      if (p.area_code().empty() || it == area_index.end()) {
        Add(loc, p.code(),
            absl::StrCat("规划管辖的区域 ", p.area_code(),
                         " 不在区域树中 / plan governs unknown area ", p.area_code()));
        continue;
      }
      const auto& area = c_.areas(it->second);
      if (p.level() != v1::AREA_LEVEL_UNSPECIFIED && p.level() != area.level()) {
        Add(loc, p.code(),
            absl::StrCat("规划层级 ", v1::AreaLevel_Name(p.level()), " 与所辖区域 ", area.code(),
                         " 的层级 ", v1::AreaLevel_Name(area.level()), " 不符 / plan level ",
                         v1::AreaLevel_Name(p.level()), " differs from its area's ",
                         v1::AreaLevel_Name(area.level())));
      }
      auto [prev, fresh] = plan_of_area.emplace(p.area_code(), i);
      if (!fresh) {
        Add(loc, p.code(),
            absl::StrCat("两个规划管辖同一区域 ", p.area_code(), "（同一层级），已有规划 ",
                         c_.plans(prev->second).code(), " / two plans govern area ", p.area_code(),
                         " at the same level (first: ", c_.plans(prev->second).code(), ")"));
      }
    }
    if (c_.plans_size() == 0) {
      return;
    }
    for (const auto& a : c_.areas()) {
      if (a.parent_code().empty() && !a.code().empty()) {
        auto it = plan_of_area.find(a.code());
        if (it == plan_of_area.end()) {
          Add(PlanLoc(0), "",
              absl::StrCat("没有规划管辖根区域 ", a.code(), " / no plan governs the root area ",
                           a.code()));
        } else {
          root_plan_ = c_.plans(it->second).code();
        }
        break;
      }
    }
  }

  SourceLoc PlanLoc(int i) const { return At(locs_ ? &locs_->plans : nullptr, i); }

  // The plan a plan_code names ("" = the root area's plan), or null when
  // the catalog has no plans or the code is unknown.
  const v1::Plan* PlanOf(const std::string& code) const {
    auto it = plans_.find(code.empty() ? root_plan_ : code);
    return it == plans_.end() ? nullptr : &c_.plans(it->second);
  }

  // Problem text for an unknown plan_code; "" when it is fine.
  std::string UnknownPlan(const std::string& code) const {
    if (code.empty() || plans_.contains(code)) {
      return "";
    }
    return absl::StrCat("未知规划 ", code, " / unknown plan ", code);
  }

  // --- domains and objectives ------------------------------------------

  void CheckDomains() {
    std::set<int> numbers;
    for (int i = 0; i < c_.domains_size(); ++i) {
      const auto& d = c_.domains(i);
      const SourceLoc loc = DomainLoc(i);
      if (d.id().empty()) {
        Add(loc, "", "领域缺少 id / domain without id");
        continue;
      }
      if (!IsUpperId(d.id())) {
        Add(loc, d.id(),
            "领域 id 须为大写字母、数字和下划线 / domain id must match [A-Z][A-Z0-9_]*");
      }
      if (!domains_.insert(d.id()).second) {
        Add(loc, d.id(), "领域 id 重复 / duplicate domain id");
      }
      if (IsBlank(d.name_zh())) {
        Add(loc, d.id(), "领域缺少中文名称 / domain without name_zh");
      }
      if (IsBlank(d.name_en())) {
        Add(loc, d.id(), "领域缺少英文名称 / domain without name_en");
      }
      if (d.number() < 1) {
        Add(loc, d.id(), "领域序号须为正整数 / domain number must be >= 1");
      } else if (!numbers.insert(d.number()).second) {
        Add(loc, d.id(),
            absl::StrFormat("领域序号 %d 重复 / duplicate domain number %d", d.number(),
                            d.number()));
      }
    }
    int expect = 1;
    for (int n : numbers) {
      if (n != expect) {
        Add(CatalogLoc(), "",
            absl::StrFormat("领域序号须从1连续编号，缺少 %d / domain numbers must run 1..n; %d is "
                            "missing",
                            expect, expect));
        break;
      }
      ++expect;
    }
  }

  void CheckObjectives() {
    absl::flat_hash_map<std::string, std::set<int>> numbers_by_domain;
    for (int i = 0; i < c_.objectives_size(); ++i) {
      const auto& o = c_.objectives(i);
      const SourceLoc loc = ObjectiveLoc(i);
      if (o.id().empty()) {
        Add(loc, "", "主要目标缺少 id / objective without id");
        continue;
      }
      if (!objectives_.emplace(o.id(), i).second) {
        Add(loc, o.id(), "主要目标 id 重复 / duplicate objective id");
      }
      if (o.domain_id().empty()) {
        Add(loc, o.id(), "主要目标缺少领域 / objective without domain_id");
      } else if (!domains_.contains(o.domain_id())) {
        Add(loc, o.id(),
            absl::StrCat("未知领域 ", o.domain_id(), " / unknown domain_id ", o.domain_id()));
      } else {
        domains_with_objectives_.insert(o.domain_id());
        if (!IsChildId(o.id(), o.domain_id())) {
          Add(loc, o.id(),
              absl::StrCat("主要目标 id 须形如 ", o.domain_id(), "-O01 / objective id must be ",
                           o.domain_id(), "-<A-Z0-9>"));
        }
      }
      if (IsBlank(o.text_zh())) {
        Add(loc, o.id(), "主要目标缺少中文原文 / objective without text_zh");
      }
      if (const std::string p = UnknownPlan(o.plan_code()); !p.empty()) {
        Add(loc, o.id(), p);
      }
      // Numbers run per plan and domain; the one-plan case keys by domain.
      const std::string number_key =
          o.plan_code().empty() ? o.domain_id() : absl::StrCat(o.domain_id(), "@", o.plan_code());
      if (o.number() < 1) {
        Add(loc, o.id(), "主要目标序号须为正整数 / objective number must be >= 1");
      } else if (!numbers_by_domain[number_key].insert(o.number()).second) {
        Add(loc, o.id(),
            absl::StrFormat("领域 %s 中主要目标序号 %d 重复 / duplicate objective number %d in "
                            "domain %s",
                            o.domain_id(), o.number(), o.number(), o.domain_id()));
      }
    }
    for (const auto& [domain, numbers] : numbers_by_domain) {
      int expect = 1;
      for (int n : numbers) {
        if (n != expect) {
          Add(CatalogLoc(), domain,
              absl::StrFormat("主要目标序号须从1连续编号，缺少 %d / objective numbers must run "
                              "1..n; %d is missing",
                              expect, expect));
          break;
        }
        ++expect;
      }
    }
    for (int i = 0; i < c_.domains_size(); ++i) {
      const auto& d = c_.domains(i);
      if (!d.id().empty() && !domains_with_objectives_.contains(d.id())) {
        Add(DomainLoc(i), d.id(), "领域没有主要目标 / domain has no objectives");
      }
    }
  }

  // --- indicators ---------------------------------------------------------

  void CheckIndicators() {
    absl::flat_hash_map<std::string, int> index;
    for (int i = 0; i < c_.indicators_size(); ++i) {
      const auto& ind = c_.indicators(i);
      if (!ind.id().empty()) {
        index.emplace(ind.id(), i);
      }
    }
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < c_.indicators_size(); ++i) {
      const auto& ind = c_.indicators(i);
      const SourceLoc loc = IndicatorLoc(i);
      if (ind.id().empty()) {
        Add(loc, "", "指标缺少 id / indicator without id");
        continue;
      }
      const std::string& id = ind.id();
      if (!seen.insert(id).second) {
        Add(loc, id, "指标 id 重复 / duplicate indicator id");
      }
      if (ind.domain_id().empty()) {
        Add(loc, id, "指标缺少领域 / indicator without domain_id");
      } else if (!domains_.contains(ind.domain_id())) {
        Add(loc, id,
            absl::StrCat("未知领域 ", ind.domain_id(), " / unknown domain_id ", ind.domain_id()));
      } else if (!IsChildId(id, ind.domain_id())) {
        Add(loc, id,
            absl::StrCat("指标 id 须形如 ", ind.domain_id(), "-01 / indicator id must be ",
                         ind.domain_id(), "-<A-Z0-9>"));
      }
      if (IsBlank(ind.name_zh())) {
        Add(loc, id, "指标缺少中文名称 / indicator without name_zh");
      }
      if (IsBlank(ind.name_en())) {
        Add(loc, id, "指标缺少英文名称 / indicator without name_en");
      }
      // Objectives.
      if (ind.objective_ids().empty()) {
        Add(loc, id, "指标没有对应的主要目标 / indicator without objective_ids");
      }
      absl::flat_hash_set<std::string> own_objectives;
      for (const auto& oid : ind.objective_ids()) {
        if (!own_objectives.insert(oid).second) {
          Add(loc, id,
              absl::StrCat("主要目标 ", oid, " 重复引用 / objective ", oid, " listed twice"));
          continue;
        }
        auto it = objectives_.find(oid);
        if (it == objectives_.end()) {
          Add(loc, id, absl::StrCat("未知主要目标 ", oid, " / unknown objective ", oid));
          continue;
        }
        const auto& o = c_.objectives(it->second);
        if (!ind.domain_id().empty() && o.domain_id() != ind.domain_id()) {
          Add(loc, id,
              absl::StrCat("主要目标 ", oid, " 属于领域 ", o.domain_id(), "，与指标领域 ",
                           ind.domain_id(), " 不符 / objective ", oid, " belongs to domain ",
                           o.domain_id(), ", not ", ind.domain_id()));
        }
        if (ind.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
          qualitative_cover_.insert(oid);
        } else {
          numeric_cover_.insert(oid);
        }
      }
      // Responsible units.
      if (ind.responsible_unit_codes().empty()) {
        Add(loc, id, "指标没有责任单位 / indicator without responsible unit");
      }
      absl::flat_hash_set<std::string> own_units;
      for (const auto& u : ind.responsible_unit_codes()) {
        if (!own_units.insert(u).second) {
          Add(loc, id,
              absl::StrCat("责任单位 ", u, " 重复 / responsible unit ", u, " listed twice"));
        } else if (!units_.contains(u)) {
          Add(loc, id, absl::StrCat("未知责任单位 ", u, " / unknown responsible unit ", u));
        }
      }
      // Lead unit 牵头单位: one of the responsible units; required when
      // there are several (a late-data warning names it).
      if (!ind.lead_unit_code().empty()) {
        if (!own_units.contains(ind.lead_unit_code())) {
          Add(loc, id,
              absl::StrCat("牵头单位 ", ind.lead_unit_code(), " 不是该指标的责任单位 / lead unit ",
                           ind.lead_unit_code(), " is not one of responsible_unit_codes"));
        }
      } else if (ind.responsible_unit_codes_size() > 1) {
        Add(loc, id,
            "指标有多个责任单位，须指定牵头单位 lead_unit_code / an indicator with several "
            "responsible units needs lead_unit_code");
      }
      // Disaggregations.
      absl::flat_hash_set<int> disagg;
      for (int d : ind.required_disaggregations()) {
        if (d == v1::DISAGGREGATION_UNSPECIFIED || !v1::Disaggregation_IsValid(d)) {
          Add(loc, id, absl::StrFormat("无效的分组维度 %d / invalid disaggregation %d", d, d));
        } else if (!disagg.insert(d).second) {
          Add(loc, id,
              absl::StrCat("分组维度 ", v1::Disaggregation_Name(static_cast<v1::Disaggregation>(d)),
                           " 重复 / disaggregation listed twice"));
        }
      }
      CheckKind(i, ind, index);
      if (ind.has_due_date()) {
        const auto& dd = ind.due_date();
        const auto def = DefaultDue();
        std::string p = DueDateProblem(dd.year_offset() != 0 ? dd.year_offset() : def.year_offset(),
                                       dd.month() != 0 ? dd.month() : def.month(),
                                       dd.day() != 0 ? dd.day() : def.day());
        if (!p.empty()) {
          Add(loc, id, p);
        }
      }
      CheckTargets(i, ind, disagg);
    }
  }

  v1::DueDate DefaultDue() const {
    v1::DueDate d;
    d.set_year_offset(0);
    d.set_month(12);
    d.set_day(31);
    if (c_.has_calendar() && c_.calendar().has_default_due_date()) {
      const auto& cd = c_.calendar().default_due_date();
      d.set_year_offset(cd.year_offset());
      if (cd.month() != 0) {
        d.set_month(cd.month());
      }
      if (cd.day() != 0) {
        d.set_day(cd.day());
      }
    }
    return d;
  }

  void CheckKind(int i, const v1::Indicator& ind,
                 const absl::flat_hash_map<std::string, int>& index) {
    const SourceLoc loc = IndicatorLoc(i);
    const std::string& id = ind.id();
    const auto kind = ind.kind();
    if (kind == v1::INDICATOR_KIND_UNSPECIFIED || !v1::IndicatorKind_IsValid(kind)) {
      Add(loc, id, "指标缺少类型 / indicator without a valid kind");
      return;
    }
    if (!v1::Direction_IsValid(ind.direction())) {
      Add(loc, id, "无效的方向 / invalid direction");
    }
    if (ind.fluctuation_threshold() < 0 || ind.fluctuation_threshold() > 10) {
      Add(loc, id,
          "波动阈值须在 0—10 之间（0 为默认 0.20） / fluctuation_threshold must be within 0..10");
    }
    if (ind.rare_event_threshold() < 0) {
      Add(loc, id, "罕见事件阈值不能为负 / rare_event_threshold must be >= 0");
    } else if (ind.rare_event_threshold() > 0 && kind != v1::INDICATOR_KIND_RATE) {
      Add(loc, id, "只有 RATE 指标可设罕见事件阈值 / rare_event_threshold is for RATE only");
    }
    if (!(ind.coverage_threshold_percent() >= 0 && ind.coverage_threshold_percent() <= 100)) {
      Add(loc, id,
          "汇总覆盖阈值须在 0—100 之间（0 为默认：全部下级区域） / coverage_threshold_percent "
          "must be within 0..100 (0 = default: every child area)");
    } else if (ind.coverage_threshold_percent() > 0 &&
               (kind == v1::INDICATOR_KIND_QUALITATIVE ||
                ind.aggregation().method() == v1::AGGREGATION_METHOD_NONE)) {
      Add(loc, id,
          "不汇总的指标不能设汇总覆盖阈值 / coverage_threshold_percent is for aggregated "
          "indicators only");
    }
    const bool has_min = ind.value_range().has_min();
    const bool has_max = ind.value_range().has_max();
    const double min = ind.value_range().min(), max = ind.value_range().max();
    if (has_min && has_max && min > max) {
      Add(loc, id,
          absl::StrCat("取值范围下限 ", Fmt(min), " 大于上限 ", Fmt(max),
                       " / value_range min > max"));
    }
    if (!v1::DataSource_IsValid(ind.data_source())) {
      Add(loc, id, "无效的数据来源 / invalid data_source");
    }
    if (kind == v1::INDICATOR_KIND_QUALITATIVE) {
      if (ind.multiplier() != 0) {
        Add(loc, id, "定性指标不能有倍数 / QUALITATIVE indicator with multiplier");
      }
      if (has_min || has_max) {
        Add(loc, id, "定性指标不能有取值范围 / QUALITATIVE indicator with value_range");
      }
      if (ind.aggregation().method() != v1::AGGREGATION_METHOD_UNSPECIFIED &&
          ind.aggregation().method() != v1::AGGREGATION_METHOD_NONE) {
        Add(loc, id, "定性指标不能汇总 / QUALITATIVE indicator cannot be aggregated");
      }
      return;
    }
    // Numeric kinds.
    if (IsBlank(ind.unit())) {
      Add(loc, id, "指标缺少计量单位 / indicator without unit");
    }
    if (ind.data_source() == v1::DATA_SOURCE_UNSPECIFIED) {
      Add(loc, id, "指标缺少数据来源 / indicator without data_source");
    }
    const bool fraction = kind == v1::INDICATOR_KIND_RATE || kind == v1::INDICATOR_KIND_PROPORTION;
    if (fraction &&
        (IsBlank(ind.definition().numerator_zh()) || IsBlank(ind.definition().denominator_zh()))) {
      Add(loc, id,
          "比率指标须定义分子和分母 / RATE/PROPORTION indicator needs definition "
          "numerator_zh and denominator_zh");
    }
    if (kind == v1::INDICATOR_KIND_RATE) {
      if (!(ind.multiplier() > 0)) {
        Add(loc, id, "RATE 指标须有正的倍数 / RATE indicator needs multiplier > 0");
      }
      if (has_min && min < 0) {
        Add(loc, id, "率的取值范围不能为负 / RATE value_range min < 0");
      }
    } else if (kind == v1::INDICATOR_KIND_PROPORTION) {
      if (ind.multiplier() != 0 && ind.multiplier() != 100) {
        Add(loc, id,
            "比例指标的倍数只能为100（或不填） / PROPORTION multiplier must be 100 or unset");
      }
      if ((has_min && (min < 0 || min > 100)) || (has_max && (max < 0 || max > 100))) {
        Add(loc, id,
            "比例的取值范围须在 0—100 之内 / PROPORTION value_range must lie within 0..100");
      }
    } else {
      if (ind.multiplier() != 0) {
        Add(loc, id, "只有 RATE 指标可设倍数 / multiplier is for RATE only");
      }
      if (kind == v1::INDICATOR_KIND_COUNT && has_min && min < 0) {
        Add(loc, id, "计数指标的取值范围不能为负 / COUNT value_range min < 0");
      }
    }
    // Aggregation.
    const auto method = ind.aggregation().method();
    if (!v1::AggregationMethod_IsValid(method)) {
      Add(loc, id, "无效的汇总方法 / invalid aggregation method");
    } else if (method == v1::AGGREGATION_METHOD_SUM_FRACTIONS && !fraction) {
      Add(loc, id,
          "SUM_FRACTIONS 只适用于 RATE/PROPORTION / SUM_FRACTIONS needs RATE or PROPORTION");
    } else if (method == v1::AGGREGATION_METHOD_SUM && kind != v1::INDICATOR_KIND_COUNT) {
      Add(loc, id, "SUM 只适用于 COUNT / SUM needs a COUNT indicator");
    } else if (method == v1::AGGREGATION_METHOD_WEIGHTED_MEAN) {
      if (kind != v1::INDICATOR_KIND_VALUE) {
        Add(loc, id, "WEIGHTED_MEAN 只适用于 VALUE / WEIGHTED_MEAN needs a VALUE indicator");
      }
      const std::string& w = ind.aggregation().weight_indicator_id();
      auto it = index.find(w);
      if (w.empty() || it == index.end()) {
        Add(loc, id, absl::StrCat("未知权重指标 ", w, " / unknown weight_indicator_id ", w));
      } else if (c_.indicators(it->second).kind() != v1::INDICATOR_KIND_COUNT) {
        Add(loc, id,
            absl::StrCat("权重指标 ", w, " 须为 COUNT / weight indicator ", w, " must be COUNT"));
      }
    }
    if (method != v1::AGGREGATION_METHOD_WEIGHTED_MEAN &&
        !ind.aggregation().weight_indicator_id().empty()) {
      Add(loc, id, "只有 WEIGHTED_MEAN 可设权重指标 / weight_indicator_id needs WEIGHTED_MEAN");
    }
  }

  void CheckTargets(int i, const v1::Indicator& ind, const absl::flat_hash_set<int>& disagg) {
    const std::string& id = ind.id();
    if (ind.kind() == v1::INDICATOR_KIND_QUALITATIVE && ind.targets_size() > 0) {
      Add(TargetLoc(i, 0), id,
          "定性指标不能有数值目标 / QUALITATIVE indicator cannot have targets");
      return;
    }
    std::set<std::string> keys;
    for (int t = 0; t < ind.targets_size(); ++t) {
      const auto& tg = ind.targets(t);
      const SourceLoc loc = TargetLoc(i, t);
      const std::string which = absl::StrFormat("目标#%d / target #%d: ", t + 1, t + 1);
      const auto cmp = tg.comparator();
      if (cmp == v1::COMPARATOR_UNSPECIFIED || !v1::Comparator_IsValid(cmp)) {
        Add(loc, id, which + "目标缺少比较方式 / target without comparator");
        continue;
      }
      const std::string cname = v1::Comparator_Name(cmp);
      // Plan: the target's years are its plan's.
      if (const std::string p = UnknownPlan(tg.plan_code()); !p.empty()) {
        Add(loc, id, which + p);
      }
      const v1::Plan* plan = PlanOf(tg.plan_code());
      int first_year = FirstYear(), last_year = LastYear();
      if (plan != nullptr) {
        if (plan->base_year() > 0) {
          first_year = plan->base_year() + 1;
        }
        if (plan->final_year() > 0) {
          last_year = plan->final_year();
        }
      }
      const std::string plan_zh =
          plan == nullptr ? "" : absl::StrCat("（规划 ", plan->code(), " 的年份）");
      const std::string plan_en =
          plan == nullptr ? "" : absl::StrCat(" (plan ", plan->code(), "'s years)");
      // Year.
      if (tg.every_year()) {
        if (tg.year() != 0) {
          Add(loc, id, which + "目标不能同时设年份和每年 / target with both year and every_year");
        }
      } else if (tg.year() == 0) {
        Add(loc, id, which + "目标缺少年份 / target without year");
      } else if (tg.year() < first_year || tg.year() > last_year) {
        Add(loc, id,
            which + absl::StrFormat("目标年份 %d 超出 %d—%d%s / target year %d outside "
                                    "%d..%d%s",
                                    tg.year(), first_year, last_year, plan_zh, tg.year(),
                                    first_year, last_year, plan_en));
      }
      // 「达到并保持」 (reach, then keep) is MAINTAIN_* with a year: progress
      // toward the value until it is reached, kept in every year from then
      // on; 「保持」 alone holds in every year from the base year.
      const bool reach_and_keep = absl::StrContains(tg.text_zh(), "达到并保持");
      const bool maintain =
          cmp == v1::COMPARATOR_MAINTAIN_AT_LEAST || cmp == v1::COMPARATOR_MAINTAIN_AT_MOST;
      if (maintain && reach_and_keep) {
        if (tg.every_year()) {
          Add(loc, id,
              which +
                  "「达到并保持」是先达到后保持，须设年份而非每年 / 「达到并保持」 (reach, "
                  "then keep) needs a year, not every_year");
        }
      } else if (NeedsEveryYear(cmp) && !tg.every_year()) {
        Add(loc, id, which + cname + " 须为每年目标 / " + cname + " needs every_year");
      }
      // Value.
      if (NeedsValue(cmp) && !tg.has_value()) {
        Add(loc, id, which + cname + " 目标缺少数值 / " + cname + " target without value");
      }
      if (ForbidsValue(cmp) && tg.has_value()) {
        Add(loc, id, which + cname + " 目标不能有数值 / " + cname + " target cannot have a value");
      }
      if (tg.has_value()) {
        const double v = tg.value();
        if (!std::isfinite(v)) {
          Add(loc, id, which + "目标数值无效 / target value is not finite");
        } else if (cmp != v1::COMPARATOR_NARROW_GAP) {
          const auto& r = ind.value_range();
          if ((r.has_min() && v < r.min()) || (r.has_max() && v > r.max())) {
            Add(loc, id,
                which + absl::StrCat("目标数值 ", Fmt(v), " 超出取值范围 / target value ", Fmt(v),
                                     " outside value_range"));
          } else if (ind.kind() == v1::INDICATOR_KIND_PROPORTION && (v < 0 || v > 100)) {
            Add(loc, id, which + "比例目标须在 0—100 之内 / PROPORTION target outside 0..100");
          }
        }
      }
      // Tolerance.
      if (tg.tolerance() < 0) {
        Add(loc, id, which + "容差不能为负 / ABOUT tolerance must be >= 0");
      } else if (tg.tolerance() > 0 && cmp != v1::COMPARATOR_ABOUT) {
        Add(loc, id, which + "只有 ABOUT 目标可设容差 / tolerance is for ABOUT only");
      }
      // Gap.
      if (!v1::GapDimension_IsValid(tg.gap_dimension())) {
        Add(loc, id, which + "无效的差距维度 / invalid gap_dimension");
      } else if (cmp == v1::COMPARATOR_NARROW_GAP) {
        if (tg.gap_dimension() == v1::GAP_DIMENSION_UNSPECIFIED) {
          Add(loc, id, which + "NARROW_GAP 目标缺少差距维度 / NARROW_GAP needs gap_dimension");
        } else if (tg.gap_dimension() == v1::GAP_DIMENSION_SEX &&
                   !disagg.contains(v1::DISAGGREGATION_SEX)) {
          Add(loc, id,
              which +
                  "性别差距目标要求指标按性别分组 / SEX gap needs the SEX "
                  "disaggregation");
        } else if (tg.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE &&
                   !disagg.contains(v1::DISAGGREGATION_RESIDENCE)) {
          Add(loc, id,
              which +
                  "城乡差距目标要求指标按城乡分组 / RESIDENCE gap needs the "
                  "RESIDENCE disaggregation");
        }
      } else if (tg.gap_dimension() != v1::GAP_DIMENSION_UNSPECIFIED) {
        Add(loc, id,
            which +
                "只有 NARROW_GAP 目标可设差距维度 / gap_dimension is for NARROW_GAP "
                "only");
      }
      // Disaggregation the target is about.
      if (!v1::Sex_IsValid(tg.sex()) || !v1::Residence_IsValid(tg.residence())) {
        Add(loc, id, which + "无效的性别或城乡 / invalid sex or residence");
      } else {
        if ((tg.sex() == v1::SEX_FEMALE || tg.sex() == v1::SEX_MALE) &&
            !disagg.contains(v1::DISAGGREGATION_SEX)) {
          Add(loc, id,
              which +
                  "分性别目标要求指标按性别分组 / sex-specific target needs the SEX "
                  "disaggregation");
        }
        if ((tg.residence() == v1::RESIDENCE_URBAN || tg.residence() == v1::RESIDENCE_RURAL) &&
            !disagg.contains(v1::DISAGGREGATION_RESIDENCE)) {
          Add(loc, id,
              which +
                  "分城乡目标要求指标按城乡分组 / urban/rural target needs the "
                  "RESIDENCE disaggregation");
        }
      }
      // Direction.
      const Side side = ComparatorSide(cmp);
      if (side != Side::kNeutral) {
        if (ind.direction() == v1::DIRECTION_UNSPECIFIED) {
          Add(loc, id,
              which + cname + " 目标要求指标有方向 / " + cname +
                  " target needs the indicator's direction");
        } else if ((side == Side::kHigher && ind.direction() == v1::DIRECTION_LOWER_IS_BETTER) ||
                   (side == Side::kLower && ind.direction() == v1::DIRECTION_HIGHER_IS_BETTER)) {
          Add(loc, id,
              which + cname + " 与指标方向 " + v1::Direction_Name(ind.direction()) + " 矛盾 / " +
                  cname + " contradicts direction " + v1::Direction_Name(ind.direction()));
        }
      }
      // Citation.
      if (tg.objective_id().empty()) {
        Add(loc, id, which + "目标缺少出处主要目标 / target without objective_id");
      } else if (!objectives_.contains(tg.objective_id())) {
        Add(loc, id,
            which + absl::StrCat("未知主要目标 ", tg.objective_id(), " / unknown objective ",
                                 tg.objective_id()));
      } else if (PlanOf(c_.objectives(objectives_.at(tg.objective_id())).plan_code()) != plan) {
        const std::string& op = c_.objectives(objectives_.at(tg.objective_id())).plan_code();
        const std::string tp = plan == nullptr ? "" : plan->code();
        Add(loc, id,
            which + absl::StrCat("出处 ", tg.objective_id(), " 属于规划 ",
                                 op.empty() ? root_plan_ : op, "，不是目标的规划 ", tp,
                                 " / objective ", tg.objective_id(), " is of plan ",
                                 op.empty() ? root_plan_ : op, ", not the target's plan ", tp));
      } else if (std::find(ind.objective_ids().begin(), ind.objective_ids().end(),
                           tg.objective_id()) == ind.objective_ids().end()) {
        Add(loc, id,
            which + absl::StrCat("出处 ", tg.objective_id(),
                                 " 不在指标的 objective_ids 中 "
                                 "/ objective ",
                                 tg.objective_id(), " is not among the indicator's objective_ids"));
      }
      if (IsBlank(tg.text_zh())) {
        Add(loc, id, which + "目标缺少规划原文 / target without text_zh");
      }
      // Duplicates: the same comparator for the same year and group twice.
      const std::string key =
          absl::StrCat(cmp, "/", tg.every_year() ? -1 : tg.year(), "/", tg.sex(), "/",
                       tg.residence(), "/", tg.gap_dimension(), "/", plan ? plan->code() : "");
      if (!keys.insert(key).second) {
        Add(loc, id,
            which +
                "重复的目标（比较方式、年份和分组相同） / duplicate target (same "
                "comparator, year and group)");
      }
    }
  }

  // --- shared statistics ---------------------------------------------------

  // Indicators declaring the same statistic_code are one statistic: they
  // must agree on what is counted.
  void CheckStatistics() {
    absl::flat_hash_map<std::string, int> first;
    for (int i = 0; i < c_.indicators_size(); ++i) {
      const auto& ind = c_.indicators(i);
      if (ind.statistic_code().empty()) {
        continue;
      }
      auto [it, fresh] = first.emplace(ind.statistic_code(), i);
      if (fresh) {
        continue;
      }
      const auto& o = c_.indicators(it->second);
      std::vector<std::string> differ;
      if (ind.kind() != o.kind()) {
        differ.push_back("类型 kind");
      }
      if (ind.unit() != o.unit()) {
        differ.push_back(absl::StrCat("计量单位 unit（", ind.unit(), " ≠ ", o.unit(), "）"));
      }
      if (ind.multiplier() != o.multiplier()) {
        differ.push_back("倍数 multiplier");
      }
      if (ind.definition().numerator_zh() != o.definition().numerator_zh()) {
        differ.push_back("分子定义 numerator_zh");
      }
      if (ind.definition().denominator_zh() != o.definition().denominator_zh()) {
        differ.push_back("分母定义 denominator_zh");
      }
      if (!differ.empty()) {
        Add(IndicatorLoc(i), ind.id(),
            absl::StrCat("与指标 ", o.id(), " 共用统计代码 ", ind.statistic_code(), "，但",
                         absl::StrJoin(differ, "、"), "不一致 / shares statistic_code ",
                         ind.statistic_code(), " with ", o.id(),
                         " but its unit or definitions disagree"));
      }
    }
  }

  // --- validation rules -------------------------------------------------------

  void CheckRules() {
    for (const rules::RuleProblem& p : rules::LintRules(c_)) {
      Add(RuleLoc(p.index), p.id, "校验规则：" + p.message);
    }
  }

  // --- coverage -------------------------------------------------------------

  void CheckCoverage() {
    for (int i = 0; i < c_.objectives_size(); ++i) {
      const auto& o = c_.objectives(i);
      if (o.id().empty()) {
        continue;
      }
      const bool q = qualitative_cover_.contains(o.id());
      const bool n = numeric_cover_.contains(o.id());
      if (!q && !n) {
        Add(ObjectiveLoc(i), o.id(),
            "主要目标没有对应指标 / objective not covered by any indicator");
      } else if (o.qualitative() && !q) {
        Add(ObjectiveLoc(i), o.id(),
            "定性主要目标须有一个 QUALITATIVE 指标 / qualitative objective needs a QUALITATIVE "
            "indicator");
      } else if (!o.qualitative() && !n) {
        Add(ObjectiveLoc(i), o.id(),
            "主要目标只有定性指标，须标为 qualitative / objective covered only by QUALITATIVE "
            "indicators must be marked qualitative");
      }
    }
  }

  const v1::Catalog& c_;
  const CatalogLocations* locs_;
  std::vector<CatalogProblem> problems_;
  absl::flat_hash_set<std::string> units_;
  absl::flat_hash_set<std::string> domains_;
  absl::flat_hash_set<std::string> domains_with_objectives_;
  absl::flat_hash_map<std::string, int> objectives_;
  absl::flat_hash_set<std::string> qualitative_cover_;
  absl::flat_hash_set<std::string> numeric_cover_;
  absl::flat_hash_map<std::string, int> plans_;  // code → index
  std::string root_plan_;                        // the root area's plan, if any
};

}  // namespace

std::vector<CatalogProblem> ValidateCatalog(const halfsky::v1::Catalog& catalog,
                                            const CatalogLocations* locations) {
  return Validator(catalog, locations).Run();
}

}  // namespace catalog_internal
}  // namespace halfsky
