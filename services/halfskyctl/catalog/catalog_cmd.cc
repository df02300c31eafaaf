#include "services/halfskyctl/catalog/catalog_cmd.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/catalog/catalog.h"
#include "common/catalog/catalog_service.h"
#include "common/catalog/progress_bands.h"
#include "common/labels/labels.h"
#include "google/protobuf/util/json_util.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "services/halfskyctl/catalog/catalog_text.h"
#include "services/halfskyctl/cli.h"

namespace halfsky {
namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl catalog COMMAND [ARGS...]\n"
    "\n"
    "  lint [FILE|DIR...]     检查目录，逐条列出问题 FILE:LINE: id: message\n"
    "                         validate; every problem with file:line (exit 1 if any)\n"
    "  show [--catalog PATHS] [--domain ID] [--format table|json]\n"
    "                         列出指标 / list the indicators\n"
    "  doc  [--catalog PATHS] -o FILE\n"
    "                         生成 docs/CATALOG.md / generate the catalog document\n"
    "\n"
    "PATHS: comma-separated files or directories (a directory = its *.textproto files);\n"
    "default $HALFSKY_CATALOG, else deploy/catalog.\n"
    "exit codes: 0 ok, 1 problems found, 2 usage error.\n";

constexpr char kLintUsage[] =
    "用法 usage: halfskyctl catalog lint [FILE|DIR...]\n"
    "检查指标目录并列出每个问题（文件:行: id: 说明）。不给路径时检查默认目录。\n"
    "Validates the catalog and prints every problem as FILE:LINE: id: message;\n"
    "without paths, lints the default catalog ($HALFSKY_CATALOG or deploy/catalog).\n"
    "比服务启动时的检查更严：每个数值指标须有完整的指标解释（含义、计算方法、数据来源、\n"
    "措辞出处） / stricter than the services' loader: every numeric indicator needs its\n"
    "explanation (definition_zh, formula_zh, data_source_zh, wording).\n"
    "exit: 0 valid, 1 problems found, 2 usage error.\n";

constexpr char kShowUsage[] =
    "用法 usage: halfskyctl catalog show [--catalog PATHS] [--domain ID] [--format table|json]\n"
    "                                [--indicator ID]\n"
    "列出目录中的指标（表格按显示宽度对齐）或以 JSON 输出目录；--indicator 显示该指标的\n"
    "指标解释（含义、计算方法、单位、数据来源、责任单位、牵头单位）。\n"
    "Lists the indicators as an aligned table, or prints the catalog (and its\n"
    "fingerprint) as JSON. --domain restricts to one domain (e.g. HEALTH);\n"
    "--indicator ID prints that indicator's explanation (指标解释).\n"
    "exit: 0 ok, 1 invalid catalog or unknown domain, 2 usage error.\n";

constexpr char kDocUsage[] =
    "用法 usage: halfskyctl catalog doc [--catalog PATHS] -o FILE\n"
    "生成指标目录文档（Markdown，即 docs/CATALOG.md）。-o - 输出到标准输出。\n"
    "Generates the catalog document (Markdown, docs/CATALOG.md); -o - writes to stdout.\n"
    "exit: 0 ok, 1 invalid catalog or unwritable file, 2 usage error.\n";

std::vector<std::string> DefaultCatalogPaths() {
  const char* env = std::getenv("HALFSKY_CATALOG");
  std::string spec = (env != nullptr && *env != '\0') ? env : "deploy/catalog";
  return absl::StrSplit(spec, ',', absl::SkipWhitespace());
}

bool IsHelp(const std::string& a) { return a == "--help" || a == "-h" || a == "help"; }

// Options shared by show and doc. Returns false (after printing to err) on a
// usage error.
struct Options {
  std::vector<std::string> catalog;
  std::string domain;
  std::string indicator;
  std::string format = "table";
  std::string output;
  bool help = false;
};

bool ParseOptions(const std::vector<std::string>& args, bool allow_domain, bool allow_output,
                  Options* o, std::ostream& err) {
  for (const std::string& a : args) {
    if (IsHelp(a)) {
      o->help = true;
      return true;
    }
  }
  std::set<std::string> value_flags = {"catalog"};
  if (allow_domain) {
    value_flags.insert({"domain", "format", "indicator"});
  }
  if (allow_output) {
    value_flags.insert({"o", "output"});
  }
  absl::StatusOr<cli::Args> parsed = cli::Args::Parse(args, value_flags, {});
  if (!parsed.ok()) {
    err << "halfskyctl catalog: " << parsed.status().message() << "\n";
    return false;
  }
  if (!parsed->positional().empty()) {
    err << "halfskyctl catalog: 未知参数 / unknown argument '" << parsed->positional()[0] << "'\n";
    return false;
  }
  for (const std::string& v : parsed->GetAll("catalog")) {
    for (absl::string_view p : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      o->catalog.emplace_back(p);
    }
  }
  o->domain = parsed->GetOr("domain", "");
  o->indicator = parsed->GetOr("indicator", "");
  if (std::optional<std::string> format = parsed->Get("format")) {
    if (*format != "table" && *format != "json") {
      err << "halfskyctl catalog: --format 只能是 table 或 json / must be table or json\n";
      return false;
    }
    o->format = *format;
  }
  o->output = parsed->GetOr("output", parsed->GetOr("o", ""));
  if (o->catalog.empty()) {
    o->catalog = DefaultCatalogPaths();
  }
  return true;
}

// Loads the catalog, printing every problem to err on failure.
std::shared_ptr<const CatalogIndex> LoadOrReport(const std::vector<std::string>& paths,
                                                 std::ostream& err) {
  CatalogLoadResult lint = LintCatalog(paths);
  if (!lint.problems.empty()) {
    for (const auto& p : lint.problems) {
      err << p.ToString() << "\n";
    }
    err << "指标目录无效，共 " << lint.problems.size() << " 个问题 / invalid catalog, "
        << lint.problems.size() << " problem(s)\n";
    return nullptr;
  }
  auto index = CatalogIndex::FromProto(std::move(lint.catalog));
  if (!index.ok()) {  // cannot happen: same rules
    err << index.status().message() << "\n";
    return nullptr;
  }
  return *std::move(index);
}

// --- lint -------------------------------------------------------------------

int Lint(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  for (const auto& a : args) {
    if (IsHelp(a)) {
      out << kLintUsage;
      return 0;
    }
  }
  absl::StatusOr<cli::Args> parsed = cli::Args::Parse(args, {}, {});
  if (!parsed.ok()) {
    err << "halfskyctl catalog lint: " << parsed.status().message() << "\n" << kLintUsage;
    return 2;
  }
  std::vector<std::string> paths = parsed->positional();
  if (paths.empty()) {
    paths = DefaultCatalogPaths();
  }
  // Lint asks more than the services' loader: every numeric indicator's
  // 指标解释 (common/catalog/catalog.h LintOptions).
  CatalogLoadResult result = LintCatalog(paths, LintOptions{/*require_explanations=*/true});
  if (!result.problems.empty()) {
    for (const auto& p : result.problems) {
      out << p.ToString() << "\n";
    }
    out << "共 " << result.problems.size() << " 个问题 / " << result.problems.size()
        << " problem(s)\n";
    return 1;
  }
  const auto& c = result.catalog;
  auto index = CatalogIndex::FromProto(c);
  out << "目录有效 / catalog OK: " << c.domains_size() << " domains, " << c.objectives_size()
      << " objectives, " << c.indicators_size() << " indicators, " << c.member_units_size()
      << " member units, " << c.areas_size() << " areas; fingerprint "
      << (index.ok() ? (*index)->fingerprint() : std::string("?")) << "\n";
  return 0;
}

// --- show -------------------------------------------------------------------

std::string UnitsOf(const CatalogIndex& index, const v1::Indicator& ind) {
  std::vector<std::string> names;
  for (const auto& code : ind.responsible_unit_codes()) {
    const v1::MemberUnit* u = index.FindMemberUnit(code);
    names.push_back(u != nullptr ? u->name_zh() : code);
  }
  return absl::StrJoin(names, "、");
}

std::string TargetsOf(const v1::Indicator& ind) {
  std::vector<std::string> t;
  for (const auto& target : ind.targets()) {
    t.push_back(TargetSummary(target, ind));
  }
  return t.empty() ? "—" : absl::StrJoin(t, "；");
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<int> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      if (i + 1 == rows[r].size()) {
        line += rows[r][i];
      } else {
        line += PadToWidth(rows[r][i], widths[i]) + "  ";
      }
    }
    out << line << "\n";
    if (r == 0) {
      std::string rule;
      for (size_t i = 0; i < widths.size(); ++i) {
        rule += std::string(widths[i], '-') + (i + 1 == widths.size() ? "" : "  ");
      }
      out << rule << "\n";
    }
  }
}

int Show(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!ParseOptions(args, /*allow_domain=*/true, /*allow_output=*/false, &o, err)) {
    err << kShowUsage;
    return 2;
  }
  if (o.help) {
    out << kShowUsage;
    return 0;
  }
  auto index = LoadOrReport(o.catalog, err);
  if (index == nullptr) {
    return 1;
  }
  if (!o.indicator.empty()) {
    const v1::Indicator* ind = index->FindIndicator(o.indicator);
    if (ind == nullptr) {
      err << "halfskyctl catalog show: 未知指标 / unknown indicator " << o.indicator << "\n";
      return 1;
    }
    if (o.format == "json") {
      google::protobuf::util::JsonPrintOptions options;
      options.add_whitespace = true;
      options.preserve_proto_field_names = true;
      std::string json;
      if (auto st = google::protobuf::util::MessageToJsonString(*ind, &json, options); !st.ok()) {
        err << "halfskyctl catalog show: " << st.ToString() << "\n";
        return 1;
      }
      out << json;
      return 0;
    }
    out << ind->id() << " " << ind->name_zh() << " — " << ind->name_en() << "\n";
    out << "  类型 kind: " << KindText(*ind) << "\n";
    for (const auto& [label, text] : ExplanationLines(*index, *ind)) {
      out << "  " << label << ": " << text << "\n";
    }
    return 0;
  }
  absl::StatusOr<v1::Catalog> catalog = CatalogForDomain(*index, o.domain);
  if (!catalog.ok()) {
    err << "halfskyctl catalog show: " << catalog.status().message() << "\n";
    return 1;
  }
  if (o.format == "json") {
    v1::GetCatalogResponse response;
    *response.mutable_catalog() = *catalog;
    response.set_fingerprint(index->fingerprint());
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    std::string json;
    auto status = google::protobuf::util::MessageToJsonString(response, &json, options);
    if (!status.ok()) {
      err << "halfskyctl catalog show: " << status.ToString() << "\n";
      return 1;
    }
    out << json;
    if (json.empty() || json.back() != '\n') {
      out << "\n";
    }
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"指标 ID", "名称 name", "类型 kind", "单位", "目标 targets", "责任单位 units"});
  for (const auto& ind : catalog->indicators()) {
    std::string kind = KindText(ind);
    rows.push_back({ind.id(), ind.name_zh(), kind.substr(0, kind.find(' ')),
                    ind.unit().empty() ? "—" : ind.unit(), TargetsOf(ind), UnitsOf(*index, ind)});
  }
  PrintTable(rows, out);
  out << "\n"
      << catalog->indicators_size() << " 个指标 / indicators, " << catalog->objectives_size()
      << " 个主要目标 / objectives; fingerprint " << index->fingerprint() << "\n";
  return 0;
}

// --- doc --------------------------------------------------------------------

// Escapes a table cell.
std::string Cell(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += " ";
    } else {
      out += c;
    }
  }
  return out.empty() ? "—" : out;
}

void WriteDoc(const CatalogIndex& index, std::ostream& md) {
  const v1::Catalog& c = index.catalog();
  // The plan of targets and objectives without plan_code ("" without plans).
  const v1::Plan* root_plan_proto = index.GoverningPlan(index.RootArea().code());
  const std::string root_plan = root_plan_proto != nullptr ? root_plan_proto->code() : "";
  std::map<std::string, std::vector<const v1::Objective*>> objectives;
  std::map<std::string, std::vector<const v1::Indicator*>> indicators;
  std::map<std::string, std::vector<std::string>> indicators_of_objective;
  for (const auto& o : c.objectives()) {
    objectives[o.domain_id()].push_back(&o);
  }
  for (const auto& i : c.indicators()) {
    indicators[i.domain_id()].push_back(&i);
    for (const auto& oid : i.objective_ids()) {
      indicators_of_objective[oid].push_back(i.id());
    }
  }
  static const char* const kNumerals[] = {"一", "二", "三", "四", "五",
                                          "六", "七", "八", "九", "十"};

  md << "# 指标目录 Indicator catalog\n\n"
     << "<!-- 由 `halfskyctl catalog doc --catalog deploy/catalog -o docs/CATALOG.md` 生成，"
        "请勿手工编辑。Generated from deploy/catalog; do not edit by hand. -->\n\n"
     << "- 规划 plan: " << c.plan_title_zh() << "\n"
     << "- 目录版本 catalog version: `" << c.version() << "`\n"
     << "- 基期 base year " << c.base_year() << "，中期 mid-term " << c.midterm_year()
     << "，终期 final " << c.final_year() << "\n";
  {
    int offset = 0, month = 12, day = 31;
    if (c.calendar().has_default_due_date()) {
      offset = c.calendar().default_due_date().year_offset();
      month = c.calendar().default_due_date().month();
      day = c.calendar().default_due_date().day();
    }
    md << "- 默认报送截止日期 default due date: " << (offset == 0 ? "当年" : "次年") << month
       << "月" << day << "日 (UTC+8 当日结束 / end of day)\n";
  }
  {
    int ours = 0, numeric = 0;
    for (const auto& i : c.indicators()) {
      if (i.kind() != v1::INDICATOR_KIND_QUALITATIVE) {
        ++numeric;
        ours += i.explanation().wording() == v1::EXPLANATION_WORDING_OURS ? 1 : 0;
      }
    }
    md << "- 指标解释 explanations: 每个数值指标列出指标含义、计算方法、计量单位、数据来源、"
          "责任单位和牵头单位；规划只给出目标，"
       << numeric << " 个数值指标中 " << ours
       << " 个的解释由本系统依通行的官方统计口径拟定（「解释出处」注明），待责任单位确认 / each "
          "numeric indicator lists its definition, formula, unit, data source, responsible and "
          "lead unit; the plan gives only the targets, so "
       << ours << " of the " << numeric
       << " explanations were drafted by halfsky from the usual official statistical "
          "definitions (see \"wording\"), to be confirmed by the responsible units\n";
  }
  md << "- 汇总覆盖阈值 coverage threshold: 由下级区域汇总的数值，须全部下级区域报送（或本级"
        "直接报送）才作为本级数值，否则为「数据不完整」，注明覆盖范围，不作评估；指标可另设比例 "
        "/ a figure combined from child areas counts as the parent's only when every child "
        "reported (or the parent reported it directly), unless the indicator sets "
        "`coverage_threshold_percent`; below it the figure is shown as 数据不完整 with its "
        "coverage and is not evaluated\n";
  md << "- 审核状态 approval: 数值所依据的填报数据须其责任单位该区域"
        "该年度的报表「已审核」才算已审核；含有未审核数据的数值"
        "及使用它的评估、预警和报告均注明「含未审核数据」；部署"
        "可设为只评估已审核数据（`--approved_only`），此时含未审核数据"
        "的数值不纳入评估，并注明「含未审核数据（已审核a/b项）」"
        "，目标因此无数据时为「数据不完整」 / a figure is approved when t"
        "he forms of its responsible units for its area and year are approved (已审核);"
        " figures resting on unapproved data, and the assessments, warnings and reports us"
        "ing them, say 含未审核数据; a deployment may evaluate approved data only (`"
        "--approved_only`): such figures are then left out, named with how many of their p"
        "arts are approved, and a target left without data is 数据不完整\n";
  {
    const v1::ProgressBands b = ResolveProgressBands(c.progress_bands());
    auto label = [](v1::ProgressStatus s) { return labels::LabelZh(s); };
    auto pct = [](double fraction) { return FormatNumber(fraction * 100) + "%"; };
    md << "- 进展分档 progress bands (`progress_bands`, "
       << (c.has_progress_bands() ? "本目录设定，未设的界限取默认值 / set by this catalog, "
                                    "bounds it leaves out take the defaults"
                                  : "默认值 / the defaults")
       << "): 有数值目标按进度测度 P / targets with a number by P: P ≥ "
       << FormatNumber(b.on_track()) << " " << label(v1::PROGRESS_STATUS_ON_TRACK) << "，"
       << FormatNumber(b.needs_acceleration()) << " ≤ P < " << FormatNumber(b.on_track()) << " "
       << label(v1::PROGRESS_STATUS_NEEDS_ACCELERATION) << "，" << FormatNumber(b.at_risk())
       << " ≤ P < " << FormatNumber(b.needs_acceleration()) << " "
       << label(v1::PROGRESS_STATUS_AT_RISK) << "，P < " << FormatNumber(b.at_risk()) << " "
       << label(v1::PROGRESS_STATUS_MOVING_AWAY)
       << "；无数值目标（逐步提高、逐步降低、逐年降低、差距缩小）按方向调整后的年均增长率 / "
          "targets without a number by the direction-adjusted yearly growth rate: ≥ "
       << pct(b.no_target_on_track()) << " " << label(v1::PROGRESS_STATUS_ON_TRACK) << "，"
       << pct(b.no_target_needs_acceleration()) << "—" << pct(b.no_target_on_track()) << " "
       << label(v1::PROGRESS_STATUS_NEEDS_ACCELERATION) << "，" << pct(b.no_target_at_risk()) << "—"
       << pct(b.no_target_needs_acceleration()) << " " << label(v1::PROGRESS_STATUS_AT_RISK)
       << "，< " << pct(b.no_target_at_risk()) << " " << label(v1::PROGRESS_STATUS_MOVING_AWAY)
       << "（界限值归入较高一档 / a value on a bound "
       << "is in the higher band）\n";
  }
  md << "- 指纹 fingerprint (SHA-256): `" << index.fingerprint() << "`\n\n";

  // Overview.
  md << "## 概览 Overview\n\n"
     << "| 领域 domain | 主要目标 objectives | 其中定性 qualitative | 指标 indicators | "
        "有目标的指标 with targets | 目标 targets |\n"
     << "|---|---:|---:|---:|---:|---:|\n";
  int total_o = 0, total_q = 0, total_i = 0, total_it = 0, total_t = 0;
  for (const auto& d : c.domains()) {
    int q = 0, it = 0, t = 0;
    for (const auto* o : objectives[d.id()]) {
      q += o->qualitative() ? 1 : 0;
    }
    for (const auto* i : indicators[d.id()]) {
      it += i->targets_size() > 0 ? 1 : 0;
      t += i->targets_size();
    }
    const int no = static_cast<int>(objectives[d.id()].size());
    const int ni = static_cast<int>(indicators[d.id()].size());
    md << "| " << d.number() << ". " << d.name_zh() << " " << d.name_en() << " (`" << d.id()
       << "`) | " << no << " | " << q << " | " << ni << " | " << it << " | " << t << " |\n";
    total_o += no;
    total_q += q;
    total_i += ni;
    total_it += it;
    total_t += t;
  }
  md << "| **合计 total** | **" << total_o << "** | **" << total_q << "** | **" << total_i
     << "** | **" << total_it << "** | **" << total_t << "** |\n\n";

  // How the plan's wording is read (issue #12): listed from the catalog so
  // the list stays true.
  {
    std::vector<std::string> reach_keep, keep, about, leads;
    for (const auto& i : c.indicators()) {
      for (const auto& t : i.targets()) {
        const std::string item =
            absl::StrCat("`", i.id(), "` ", i.name_zh(), "：「", t.text_zh(), "」");
        const bool maintain = t.comparator() == v1::COMPARATOR_MAINTAIN_AT_LEAST ||
                              t.comparator() == v1::COMPARATOR_MAINTAIN_AT_MOST;
        if (maintain && !t.every_year()) {
          reach_keep.push_back(item);
        } else if (maintain) {
          keep.push_back(item);
        } else if (t.comparator() == v1::COMPARATOR_ABOUT && t.every_year()) {
          about.push_back(item);
        }
      }
      if (i.responsible_unit_codes_size() > 1) {
        const std::string& lead = CatalogIndex::LeadUnit(i);
        const v1::MemberUnit* u = index.FindMemberUnit(lead);
        leads.push_back(absl::StrCat("`", i.id(), "` ", i.name_zh(), "：",
                                     u != nullptr ? u->name_zh() : lead, " (`", lead, "`)"));
      }
    }
    auto list = [&md](const std::vector<std::string>& items) {
      for (const auto& s : items) {
        md << "  - " << s << "\n";
      }
    };
    md << "## 规划措辞的解读 How the plan's wording is read\n\n"
       << "- 「达到并保持在X以上」= 先达到、后保持 (reach, then keep): `MAINTAIN_*` "
          "以规划终期为年份；"
          "尚未达到时按进度测度评估（朝X的进展），自首次达到之年起每年须保持，之后任何一年未达到即"
          "“规则未遵守”。Not yet reached: progress toward X; from the first year it is reached, "
          "every year must keep it.\n";
    list(reach_keep);
    md << "- 「保持在X以上/以下」（无“达到”）= 基期起每年 (every year from the base year): "
          "`MAINTAIN_*` `every_year`.\n";
    list(keep);
    md << "- 「保持在X左右」= 基期起每年均在 X±容差内 (every year inside the band, not only the "
          "latest): `ABOUT` `every_year`.\n";
    list(about);
    md << "- 牵头单位 lead unit: 规划未逐项指明指标的牵头单位（仅写明区统计局牵头组织年度监测），"
          "以下有多个责任单位的指标取所列第一个责任单位为牵头单位（本目录的解读）。任一责任单位报送"
          "数值即视为该指标已报送；逾期未报的预警发给牵头单位。The plan names no lead unit per "
          "indicator: the first responsible unit listed is our reading. A figure from any "
          "responsible unit reports the indicator; a late-data warning names the lead unit.\n";
    list(leads);
    md << "- 达标率 achievement rate: 一个规划的达标率 = "
          "已达标（年度、中期报告另计进展良好）的指标数 "
          "÷ 该规划设有目标的数值（非定性）指标中可评估的指标数 × 100%"
          "（逐步提高、逐年降低、差距缩小等无具体数值的目标也计入）。每个指标按其各目标中最差的状态"
          "计一次；"
          "数据不足、数据不完整（仅部分下级区域报送）和定性指标不计入分母，报告写明各有几项。"
          "多级规划（`plans`）中上级的报告比较各下级区域：每个下级区域用自己的数据分别按本级规划"
          "和上级规划计算达标率；区域排名只按上级规划的达标率（同一把尺子）；分指标排名和与上级之差"
          "只用同一年的完整数据，部分数不排名、不比较（只评估已审核数据时，含未审核数据的数值亦然）"
          "。"
          "The rate of a plan = indicators achieved "
          "(plus on track, in annual and mid-term reports) / its assessable non-qualitative "
          "indicators with any target (a target without a number — 逐步提高, 逐年降低, 差距缩小 — "
          "counts too), each counted once by its worst target; not assessable, incomplete and "
          "qualitative ones are outside the denominator. An upper level's report gives each child "
          "area one rate against its own plan and one against the upper plan, ranks the areas by "
          "the latter, and compares figures (gap, rank) only where both are complete figures of "
          "the same year (under `--approved_only`, approved ones too).\n";
    md << "- 波动较大 fluctuation: 相隔多年的两个数据点（如抽样调查）按年均变化判断 (changes "
          "between points years apart are annualised before the test).\n\n";
  }

  // Domains.
  for (const auto& d : c.domains()) {
    const int n = d.number();
    md << "## （" << (n >= 1 && n <= 10 ? kNumerals[n - 1] : std::to_string(n).c_str()) << "）"
       << d.name_zh() << " " << d.name_en() << " — `" << d.id() << "`\n\n";
    md << "### 主要目标 Objectives\n\n";
    md << "| 编号 | 主要目标（规划原文） | 定性 | 指标 |\n|---|---|:-:|---|\n";
    for (const auto* o : objectives[d.id()]) {
      md << "| `" << o->id() << "` " << o->number() << " | " << Cell(o->text_zh()) << " | "
         << (o->qualitative() ? "✓" : "") << " | "
         << Cell(absl::StrJoin(indicators_of_objective[o->id()], ", ")) << " |\n";
    }
    md << "\n### 指标 Indicators\n\n";
    for (const auto* i : indicators[d.id()]) {
      md << "#### `" << i->id() << "` " << i->name_zh() << " — " << i->name_en() << "\n\n";
      md << "- 类型 kind: " << KindText(*i);
      if (!i->unit().empty()) {
        md << "；单位 unit: " << i->unit();
      }
      if (i->kind() != v1::INDICATOR_KIND_QUALITATIVE) {
        md << "；方向 direction: " << DirectionText(i->direction());
      }
      md << "\n";
      if (!i->explanation().definition_zh().empty()) {
        md << "- 指标含义 definition: " << i->explanation().definition_zh() << "\n";
      }
      if (!i->explanation().formula_zh().empty()) {
        md << "- 计算方法 formula: " << i->explanation().formula_zh() << "\n";
      }
      if (!i->definition().numerator_zh().empty()) {
        md << "- 分子 numerator: " << i->definition().numerator_zh() << "\n";
      }
      if (!i->definition().denominator_zh().empty()) {
        md << "- 分母 denominator: " << i->definition().denominator_zh() << "\n";
      }
      if (!i->definition().note_zh().empty()) {
        md << "- 说明 note: " << i->definition().note_zh() << "\n";
      }
      std::vector<std::string> units;
      for (const auto& code : i->responsible_unit_codes()) {
        const v1::MemberUnit* u = index.FindMemberUnit(code);
        units.push_back(absl::StrCat(u != nullptr ? u->name_zh() : code, " (`", code, "`)"));
      }
      md << "- 责任单位 responsible: " << absl::StrJoin(units, "、") << "\n";
      if (i->responsible_unit_codes_size() > 1) {
        const std::string& lead = CatalogIndex::LeadUnit(*i);
        const v1::MemberUnit* u = index.FindMemberUnit(lead);
        md << "- 牵头单位 lead: " << (u != nullptr ? u->name_zh() : lead) << " (`" << lead
           << "`)\n";
      }
      if (!i->required_disaggregations().empty()) {
        std::vector<std::string> ds;
        for (int x : i->required_disaggregations()) {
          ds.push_back(DisaggregationText(static_cast<v1::Disaggregation>(x)));
        }
        md << "- 分组 disaggregations: " << absl::StrJoin(ds, "、") << "\n";
      }
      if (i->kind() != v1::INDICATOR_KIND_QUALITATIVE) {
        md << "- 数据来源 source: "
           << (i->explanation().data_source_zh().empty()
                   ? ""
                   : absl::StrCat(i->explanation().data_source_zh(), "；"))
           << DataSourceText(i->data_source()) << "\n";
        md << "- 解释出处 wording: " << WordingText(i->explanation().wording()) << "\n";
        if (i->value_range().has_min() || i->value_range().has_max()) {
          md << "- 取值范围 range: "
             << (i->value_range().has_min() ? FormatNumber(i->value_range().min()) : "") << " — "
             << (i->value_range().has_max() ? FormatNumber(i->value_range().max()) : "") << "\n";
        }
        md << "- 波动阈值 fluctuation threshold: "
           << FormatNumber((i->fluctuation_threshold() > 0 ? i->fluctuation_threshold() : 0.2) *
                           100)
           << "%" << (i->fluctuation_threshold() > 0 ? "" : "（默认 default）") << "\n";
        if (i->coverage_threshold_percent() > 0) {
          md << "- 汇总覆盖阈值 coverage threshold: "
             << FormatNumber(i->coverage_threshold_percent()) << "% 的下级区域 / of child areas\n";
        }
        if (i->rare_event_threshold() > 0) {
          md << "- 罕见事件阈值 rare-event threshold: 年分子 < " << i->rare_event_threshold()
             << " 时按3年合并率评估 / pooled 3-year rates below " << i->rare_event_threshold()
             << " events a year\n";
        }
      }
      if (i->has_due_date()) {
        const auto& dd = i->due_date();
        md << "- 截止日期 due: " << (dd.year_offset() == 0 ? "当年" : "次年")
           << (dd.month() != 0 ? dd.month() : 12) << "月" << (dd.day() != 0 ? dd.day() : 31)
           << "日（覆盖默认 / overrides the default）\n";
      }
      std::vector<std::string> os;
      for (const auto& oid : i->objective_ids()) {
        const v1::Objective* o = index.FindObjective(oid);
        os.push_back(absl::StrCat(
            "`", oid, "`", o != nullptr ? absl::StrCat(" 目标", o->number()) : std::string()));
      }
      md << "- 出处主要目标 objectives: " << absl::StrJoin(os, "、") << "\n";
      if (!i->statistic_code().empty()) {
        md << "- 统计代码 statistic code: `" << i->statistic_code() << "`\n";
      }
      if (i->targets_size() > 0) {
        md << "\n| 目标 target | 比较 comparator | 年份 year | 规划原文 plan wording | 出处 |\n"
              "|---|---|---|---|---|\n";
        for (const auto& t : i->targets()) {
          md << "| " << Cell(TargetSummary(t, *i)) << " | " << ComparatorText(t.comparator())
             << " | " << (t.every_year() ? "每年 every year" : std::to_string(t.year())) << " | "
             << Cell(t.text_zh()) << " | `" << t.objective_id() << "`"
             << (c.plans().empty()
                     ? ""
                     : absl::StrCat("（规划 plan `",
                                    t.plan_code().empty() ? root_plan : t.plan_code(), "`）"))
             << " |\n";
        }
      } else if (i->kind() == v1::INDICATOR_KIND_QUALITATIVE) {
        md << "- 目标 targets: 无数值目标，按年度报送工作进展和自评 / no numeric target: a yearly "
              "narrative and self-assessment\n";
      } else {
        md << "- 目标 targets: 规划未设数值或方向目标，仅监测 / monitored only, the plan sets no "
              "target\n";
      }
      md << "\n";
    }
  }

  // Qualitative objectives.
  md << "## 定性主要目标 Qualitative objectives\n\n"
     << "以下主要目标没有统计指标，由责任单位每年报送工作进展（定性指标）。\n"
        "These objectives have no statistic; responsible units file a yearly narrative.\n\n"
     << "| 编号 | 主要目标 | 定性指标 |\n|---|---|---|\n";
  for (const auto& o : c.objectives()) {
    if (!o.qualitative()) {
      continue;
    }
    std::vector<std::string> q;
    for (const auto& id : indicators_of_objective[o.id()]) {
      const v1::Indicator* i = index.FindIndicator(id);
      if (i != nullptr && i->kind() == v1::INDICATOR_KIND_QUALITATIVE) {
        q.push_back(id);
      }
    }
    md << "| `" << o.id() << "` | " << Cell(o.text_zh()) << " | " << absl::StrJoin(q, ", ")
       << " |\n";
  }

  // Member units.
  md << "\n## 成员单位 Member units\n\n| 代码 code | 名称 | name | 指标数 indicators |\n"
        "|---|---|---|---:|\n";
  for (const auto& u : c.member_units()) {
    md << "| `" << u.code() << "` | " << u.name_zh() << " | " << u.name_en() << " | "
       << index.IndicatorsOfUnit(u.code()).size() << " |\n";
  }

  // Areas.
  md << "\n## 区域 Areas\n\n| 代码 code | 名称 | name | 层级 level | 城乡 | 上级 parent |\n"
        "|---|---|---|---|---|---|\n";
  for (const auto& a : c.areas()) {
    md << "| `" << a.code() << "` | " << a.name_zh() << " | " << Cell(a.name_en()) << " | "
       << AreaLevelText(a.level()) << " | " << ResidenceText(a.residence()) << " | "
       << (a.parent_code().empty() ? "—" : "`" + a.parent_code() + "`") << " |\n";
  }

  // Plans of several levels (issue #17).
  md << "\n## 多级规划 Plans of several levels\n\n"
     << "- 格式 format: 目录可列出多个规划 `plans { code title_zh area_code level base_year "
        "midterm_year final_year }`（省、市、县区各级），每个规划管辖其区域及以下各级区域，直到另有"
        "规划的下级区域为止；年份不填取目录头部的。A catalog may list several plans; each governs "
        "its area and every area below it down to the next area with a plan of its own; unset "
        "years take the header's.\n"
     << "- 目标与主要目标 targets and objectives: `targets { plan_code }`、`objectives { plan_code "
        "}` "
        "注明所属规划，不填即根区域的规划；目标年份须在其规划的年份内，出处主要目标须属于同一规划；"
        "主要目标按规划和领域分别编号。`plan_code` names the plan; empty = the root area's plan; a "
        "target's year lies within its plan's years and its objective is that plan's; objectives "
        "are numbered per plan and domain.\n"
     << "- 评估 evaluation: 每个区域只按管辖它的规划的目标评估（区按区规划，市按市规划）。Each "
        "area is evaluated against the targets of the plan governing it only.\n"
     << "- 共用统计 shared statistics: 一个指标即一项统计，各级规划的目标都读同一组数值：区的数值只"
        "填报一次，按 Σ分子/Σ分母 汇总为市的数值；`statistic_code`（如全国纲要的指标）在不同目录间"
        "标明同一统计，同一目录中共用统计代码的指标须类型、计量单位、倍数和分子分母定义一致。One "
        "indicator is one statistic read by every plan's targets: a district's figures are entered "
        "once and combine into the city's; indicators sharing a `statistic_code` must agree on "
        "kind, unit, multiplier and definitions.\n"
     << "- 区域层级 area levels: 省 → 市 → 县/区 → 镇/街道 → 村/社区，下级比上级低一层（县区也可"
        "直属省）；根区域为省、市或县区；各级均标明城镇或农村。6 位省、市代码去掉末尾的 00 后为下级"
        "代码的前缀（610000 → 61，610300 → 6103）。A child is one tier below its parent (a county "
        "may sit directly under a province); the root is a province, city, county or district.\n"
     << "- 未列出规划的目录即单一规划：目录头部（`plan_title_zh` "
        "和年份）就是该规划，管辖整个区域树。"
        "A catalog without plans is the one-plan case. 示例 example: "
        "`deploy/examples/city/catalog`（宝鸡市、金台区、渭滨区）。\n";
  if (!c.plans().empty()) {
    md << "\n| 代码 code | 规划 plan | 管辖区域 area | 层级 level | 年份 years | 目标数 targets |\n"
          "|---|---|---|---|---|---:|\n";
    for (const auto& p : c.plans()) {
      int targets = 0;
      for (const auto& i : c.indicators()) {
        for (const auto& t : i.targets()) {
          targets += (t.plan_code().empty() ? root_plan : t.plan_code()) == p.code() ? 1 : 0;
        }
      }
      const v1::Area* a = index.FindArea(p.area_code());
      md << "| `" << p.code() << "` | " << Cell(p.title_zh()) << " | "
         << (a != nullptr ? a->name_zh() : std::string()) << " `" << p.area_code() << "` | "
         << AreaLevelText(p.level() != v1::AREA_LEVEL_UNSPECIFIED
                              ? p.level()
                              : (a != nullptr ? a->level() : v1::AREA_LEVEL_UNSPECIFIED))
         << " | " << (p.base_year() != 0 ? p.base_year() : c.base_year()) << "—"
         << (p.final_year() != 0 ? p.final_year() : c.final_year()) << " | " << targets << " |\n";
    }
  }
}

int Doc(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!ParseOptions(args, /*allow_domain=*/false, /*allow_output=*/true, &o, err)) {
    err << kDocUsage;
    return 2;
  }
  if (o.help) {
    out << kDocUsage;
    return 0;
  }
  if (o.output.empty()) {
    err << "halfskyctl catalog doc: 缺少 -o FILE / -o FILE is required\n" << kDocUsage;
    return 2;
  }
  auto index = LoadOrReport(o.catalog, err);
  if (index == nullptr) {
    return 1;
  }
  std::ostringstream md;
  WriteDoc(*index, md);
  if (o.output == "-") {
    out << md.str();
    return 0;
  }
  std::ofstream file(o.output, std::ios::binary | std::ios::trunc);
  file << md.str();
  file.close();
  if (!file) {
    err << "halfskyctl catalog doc: 无法写入 / cannot write " << o.output << "\n";
    return 1;
  }
  out << "已生成 / wrote " << o.output << "\n";
  return 0;
}

}  // namespace

int RunCatalogCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (IsHelp(cmd)) {
    out << kUsage;
    return 0;
  }
  if (cmd == "lint") {
    return Lint(rest, out, err);
  }
  if (cmd == "show") {
    return Show(rest, out, err);
  }
  if (cmd == "doc") {
    return Doc(rest, out, err);
  }
  err << "halfskyctl catalog: 未知子命令 / unknown command '" << cmd << "'\n\n" << kUsage;
  return 2;
}

}  // namespace halfsky
