#include "common/catalog/catalog.h"

#include <openssl/sha.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/catalog/validate.h"
#include "common/clock/clock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"

namespace halfsky {

using catalog_internal::CatalogLocations;
using catalog_internal::SourceLoc;

std::string CatalogProblem::ToString() const {
  std::string out = file.empty() ? "catalog" : file;
  if (line > 0) {
    absl::StrAppend(&out, ":", line);
  }
  absl::StrAppend(&out, ": ");
  if (!id.empty()) {
    absl::StrAppend(&out, id, ": ");
  }
  absl::StrAppend(&out, message);
  return out;
}

namespace {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  CollectErrors(std::string file, std::vector<CatalogProblem>* problems)
      : file_(std::move(file)), problems_(problems) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    CatalogProblem p;
    p.file = file_;
    p.line = line + 1;
    p.message = absl::StrFormat("解析错误（第 %d 列） / parse error at column %d: %s", column + 1,
                                column + 1, message);
    problems_->push_back(std::move(p));
    ++errors_;
  }
  int errors() const { return errors_; }

 private:
  std::string file_;
  std::vector<CatalogProblem>* problems_;
  int errors_ = 0;
};

// Expands directories into their *.textproto files, sorted by name.
std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths,
                                     std::vector<CatalogProblem>* problems) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".textproto") {
          found.push_back(entry.path().string());
        }
      }
      if (ec) {
        problems->push_back(
            {path, 0, "", absl::StrCat("无法读取目录 / cannot read directory: ", ec.message())});
        continue;
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) {
        problems->push_back(
            {path, 0, "", "目录中没有 *.textproto 文件 / directory holds no *.textproto files"});
      }
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(path, ec)) {
      files.push_back(path);
    } else {
      problems->push_back({path, 0, "", "文件不存在 / no such file or directory"});
    }
  }
  if (paths.empty()) {
    problems->push_back({"", 0, "", "未指定目录文件 / no catalog paths given"});
  }
  return files;
}

SourceLoc LocOf(const std::string& file, const TextFormat::ParseInfoTree& tree,
                const FieldDescriptor* field, int index) {
  const auto l = tree.GetLocation(field, index);
  return SourceLoc{file, l.line >= 0 ? l.line + 1 : 0};
}

// Appends `part`'s locations (parsed from `file`) to `locs`.
void RecordLocations(const std::string& file, const v1::Catalog& part,
                     const TextFormat::ParseInfoTree& tree, CatalogLocations* locs) {
  const auto* d = v1::Catalog::descriptor();
  const FieldDescriptor* f_domains = d->FindFieldByName("domains");
  const FieldDescriptor* f_objectives = d->FindFieldByName("objectives");
  const FieldDescriptor* f_indicators = d->FindFieldByName("indicators");
  const FieldDescriptor* f_units = d->FindFieldByName("member_units");
  const FieldDescriptor* f_areas = d->FindFieldByName("areas");
  const FieldDescriptor* f_plans = d->FindFieldByName("plans");
  const FieldDescriptor* f_rules = d->FindFieldByName("validation_rules");
  const FieldDescriptor* f_targets = v1::Indicator::descriptor()->FindFieldByName("targets");
  for (int i = 0; i < part.domains_size(); ++i) {
    locs->domains.push_back(LocOf(file, tree, f_domains, i));
  }
  for (int i = 0; i < part.objectives_size(); ++i) {
    locs->objectives.push_back(LocOf(file, tree, f_objectives, i));
  }
  for (int i = 0; i < part.indicators_size(); ++i) {
    locs->indicators.push_back(LocOf(file, tree, f_indicators, i));
    std::vector<SourceLoc> targets;
    const TextFormat::ParseInfoTree* nested = tree.GetTreeForNested(f_indicators, i);
    for (int t = 0; t < part.indicators(i).targets_size(); ++t) {
      targets.push_back(nested != nullptr ? LocOf(file, *nested, f_targets, t)
                                          : locs->indicators.back());
    }
    locs->targets.push_back(std::move(targets));
  }
  for (int i = 0; i < part.member_units_size(); ++i) {
    locs->member_units.push_back(LocOf(file, tree, f_units, i));
  }
  for (int i = 0; i < part.areas_size(); ++i) {
    locs->areas.push_back(LocOf(file, tree, f_areas, i));
  }
  for (int i = 0; i < part.plans_size(); ++i) {
    locs->plans.push_back(LocOf(file, tree, f_plans, i));
  }
  for (int i = 0; i < part.validation_rules_size(); ++i) {
    locs->validation_rules.push_back(LocOf(file, tree, f_rules, i));
  }
}

// Merges the singular header fields of `part` into `merged`, reporting a
// field that two files set to different values.
void MergeHeader(const std::string& file, const v1::Catalog& part,
                 const TextFormat::ParseInfoTree& tree, v1::Catalog* merged, CatalogLocations* locs,
                 std::vector<CatalogProblem>* problems) {
  const auto* desc = v1::Catalog::descriptor();
  const auto* refl = v1::Catalog::GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (f->is_repeated() || !refl->HasField(part, f)) {
      continue;
    }
    const SourceLoc here = LocOf(file, tree, f, -1);
    if (refl->HasField(*merged, f)) {
      std::string a, b;
      TextFormat::PrintFieldValueToString(*merged, f, -1, &a);
      TextFormat::PrintFieldValueToString(part, f, -1, &b);
      if (a != b) {
        const SourceLoc& first = locs->header[f->name()];
        problems->push_back(
            {here.file, here.line, "",
             absl::StrCat(f->name(), " 与 ", first.file, ":", first.line, " 的取值冲突 / ",
                          f->name(), " conflicts with the value set at ", first.file, ":",
                          first.line)});
      }
      continue;
    }
    locs->header[f->name()] = here;
  }
  // Repeated fields are appended; singular fields take the first file's
  // value (conflicts were reported above).
  v1::Catalog copy = part;
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (!f->is_repeated() && refl->HasField(*merged, f)) {
      refl->ClearField(&copy, f);
    }
  }
  merged->MergeFrom(copy);
}

struct Parsed {
  v1::Catalog catalog;
  CatalogLocations locations;
  std::vector<CatalogProblem> problems;
  bool parsed = false;
};

Parsed ParseAll(const std::vector<std::string>& paths) {
  Parsed out;
  const std::vector<std::string> files = ExpandPaths(paths, &out.problems);
  bool parse_failed = !out.problems.empty();
  for (const auto& file : files) {
    if (out.locations.catalog.file.empty()) {
      out.locations.catalog = SourceLoc{file, 0};
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      out.problems.push_back({file, 0, "", "无法打开文件 / cannot open file"});
      parse_failed = true;
      continue;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    v1::Catalog part;
    TextFormat::ParseInfoTree tree;
    CollectErrors errors(file, &out.problems);
    TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    parser.WriteLocationsTo(&tree);
    if (!parser.ParseFromString(text, &part) || errors.errors() > 0) {
      if (errors.errors() == 0) {
        out.problems.push_back({file, 0, "", "解析错误 / parse error"});
      }
      parse_failed = true;
      continue;
    }
    RecordLocations(file, part, tree, &out.locations);
    MergeHeader(file, part, tree, &out.catalog, &out.locations, &out.problems);
  }
  out.parsed = !parse_failed;
  return out;
}

std::string Fingerprint(const v1::Catalog& catalog) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    catalog.SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    absl::StrAppendFormat(&hex, "%02x", b);
  }
  return hex;
}

absl::Status ProblemsToStatus(const std::vector<CatalogProblem>& problems) {
  std::vector<std::string> lines;
  lines.reserve(problems.size());
  for (const auto& p : problems) {
    lines.push_back(p.ToString());
  }
  return absl::InvalidArgumentError(absl::StrCat("指标目录无效，共 ", problems.size(),
                                                 " 个问题 / invalid catalog, ", problems.size(),
                                                 " problem(s):\n", absl::StrJoin(lines, "\n")));
}

}  // namespace

CatalogLoadResult LintCatalog(const std::vector<std::string>& paths, const LintOptions& options) {
  Parsed parsed = ParseAll(paths);
  CatalogLoadResult result;
  result.problems = std::move(parsed.problems);
  if (parsed.parsed) {
    std::vector<CatalogProblem> more =
        catalog_internal::ValidateCatalog(parsed.catalog, &parsed.locations);
    if (options.require_explanations) {
      std::vector<CatalogProblem> wording =
          catalog_internal::CheckExplanations(parsed.catalog, &parsed.locations);
      more.insert(more.end(), std::make_move_iterator(wording.begin()),
                  std::make_move_iterator(wording.end()));
    }
    result.problems.insert(result.problems.end(), std::make_move_iterator(more.begin()),
                           std::make_move_iterator(more.end()));
    result.catalog = std::move(parsed.catalog);
  }
  return result;
}

absl::StatusOr<std::shared_ptr<const CatalogIndex>> CatalogIndex::Load(
    const std::vector<std::string>& paths) {
  CatalogLoadResult result = LintCatalog(paths);
  if (!result.problems.empty()) {
    return ProblemsToStatus(result.problems);
  }
  std::shared_ptr<CatalogIndex> index(new CatalogIndex());
  index->catalog_ = std::move(result.catalog);
  index->BuildIndexes();
  return std::shared_ptr<const CatalogIndex>(std::move(index));
}

absl::StatusOr<std::shared_ptr<const CatalogIndex>> CatalogIndex::FromProto(
    halfsky::v1::Catalog catalog) {
  std::vector<CatalogProblem> problems = catalog_internal::ValidateCatalog(catalog, nullptr);
  if (!problems.empty()) {
    return ProblemsToStatus(problems);
  }
  std::shared_ptr<CatalogIndex> index(new CatalogIndex());
  index->catalog_ = std::move(catalog);
  index->BuildIndexes();
  return std::shared_ptr<const CatalogIndex>(std::move(index));
}

void CatalogIndex::BuildIndexes() {
  fingerprint_ = Fingerprint(catalog_);
  for (const auto& i : catalog_.indicators()) {
    indicators_.emplace(i.id(), &i);
  }
  for (const auto& a : catalog_.areas()) {
    areas_.emplace(a.code(), &a);
    if (a.parent_code().empty()) {
      root_ = &a;
    } else {
      children_[a.parent_code()].push_back(&a);
    }
  }
  for (const auto& d : catalog_.domains()) {
    domains_.emplace(d.id(), &d);
  }
  for (const auto& p : catalog_.plans()) {
    plan_of_area_.emplace(p.area_code(), &p);
  }
  if (root_ != nullptr) {
    root_plan_ = GoverningPlan(root_->code());
  }
  for (const auto& o : catalog_.objectives()) {
    objectives_.emplace(o.id(), &o);
  }
  for (const auto& u : catalog_.member_units()) {
    units_.emplace(u.code(), &u);
  }
}

const v1::Indicator* CatalogIndex::FindIndicator(absl::string_view id) const {
  auto it = indicators_.find(id);
  return it == indicators_.end() ? nullptr : it->second;
}

const v1::Area* CatalogIndex::FindArea(absl::string_view code) const {
  auto it = areas_.find(code);
  return it == areas_.end() ? nullptr : it->second;
}

const v1::Domain* CatalogIndex::FindDomain(absl::string_view id) const {
  auto it = domains_.find(id);
  return it == domains_.end() ? nullptr : it->second;
}

const v1::Objective* CatalogIndex::FindObjective(absl::string_view id) const {
  auto it = objectives_.find(id);
  return it == objectives_.end() ? nullptr : it->second;
}

const v1::MemberUnit* CatalogIndex::FindMemberUnit(absl::string_view code) const {
  auto it = units_.find(code);
  return it == units_.end() ? nullptr : it->second;
}

const v1::Area& CatalogIndex::RootArea() const { return *root_; }

const std::vector<const v1::Area*>& CatalogIndex::Children(absl::string_view code) const {
  static const auto* const kEmpty = new std::vector<const v1::Area*>();
  auto it = children_.find(code);
  return it == children_.end() ? *kEmpty : it->second;
}

const v1::Plan* CatalogIndex::GoverningPlan(absl::string_view area_code) const {
  if (plan_of_area_.empty()) {
    return nullptr;
  }
  // A valid catalog's tree has no cycle; the bound is only a guard.
  const v1::Area* area = FindArea(area_code);
  for (size_t steps = 0; area != nullptr && steps <= areas_.size(); ++steps) {
    auto it = plan_of_area_.find(area->code());
    if (it != plan_of_area_.end()) {
      return it->second;
    }
    area = area->parent_code().empty() ? nullptr : FindArea(area->parent_code());
  }
  return nullptr;
}

const std::string& CatalogIndex::PlanTitle(absl::string_view area_code) const {
  const v1::Plan* plan = GoverningPlan(area_code);
  return plan != nullptr ? plan->title_zh() : catalog_.plan_title_zh();
}

bool CatalogIndex::TargetApplies(const v1::Target& target, absl::string_view area_code) const {
  if (plan_of_area_.empty()) {
    return true;
  }
  const v1::Plan* plan = GoverningPlan(area_code);
  if (plan == nullptr) {
    return false;
  }
  const std::string& code =
      target.plan_code().empty() && root_plan_ != nullptr ? root_plan_->code() : target.plan_code();
  return code == plan->code();
}

const std::string& CatalogIndex::LeadUnit(const v1::Indicator& indicator) {
  static const std::string* const kNone = new std::string();
  if (!indicator.lead_unit_code().empty()) {
    return indicator.lead_unit_code();
  }
  return indicator.responsible_unit_codes().empty() ? *kNone : indicator.responsible_unit_codes(0);
}

std::vector<const v1::Indicator*> CatalogIndex::IndicatorsOfUnit(
    absl::string_view unit_code) const {
  std::vector<const v1::Indicator*> out;
  for (const auto& i : catalog_.indicators()) {
    for (const auto& u : i.responsible_unit_codes()) {
      if (u == unit_code) {
        out.push_back(&i);
        break;
      }
    }
  }
  return out;
}

absl::Time CatalogIndex::DueAt(const v1::Indicator& indicator, int year) const {
  int offset = 0, month = 12, day = 31;
  if (catalog_.has_calendar() && catalog_.calendar().has_default_due_date()) {
    const auto& d = catalog_.calendar().default_due_date();
    offset = d.year_offset();
    if (d.month() != 0) {
      month = d.month();
    }
    if (d.day() != 0) {
      day = d.day();
    }
  }
  if (indicator.has_due_date()) {
    const auto& d = indicator.due_date();
    if (d.year_offset() != 0) {
      offset = d.year_offset();
    }
    if (d.month() != 0) {
      month = d.month();
    }
    if (d.day() != 0) {
      day = d.day();
    }
  }
  return absl::FromCivil(absl::CivilSecond(year + offset, month, day, 23, 59, 59),
                         DistrictTimeZone());
}

}  // namespace halfsky
