#include "services/halfskyctl/cli.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace halfsky::cli {

namespace {

std::string Normalize(const std::string& name) { return absl::StrReplaceAll(name, {{"_", "-"}}); }

std::set<std::string> NormalizeAll(const std::set<std::string>& names) {
  std::set<std::string> out;
  for (const std::string& name : names) {
    out.insert(Normalize(name));
  }
  return out;
}

}  // namespace

const char* ExitCodesHelp() {
  return "exit codes 退出码:\n"
         "  0  成功 / ok\n"
         "  1  服务器拒绝或发现问题 / the server said no, or problems were found\n"
         "  2  用法错误 / usage error (bad flags or arguments)\n"
         "  3  服务不可达或超时 / server unreachable or deadline exceeded\n";
}

int ExitCodeFor(const grpc::Status& status) {
  if (status.ok()) {
    return kExitOk;
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return kExitUnreachable;
  }
  return kExitProblems;
}

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& args,
                                 const std::set<std::string>& value_flag_names,
                                 const std::set<std::string>& bool_flag_names) {
  const std::set<std::string> value_flags = NormalizeAll(value_flag_names);
  const std::set<std::string> bool_flags = NormalizeAll(bool_flag_names);
  Args out;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a == "-" || a.size() < 2 || a[0] != '-') {
      out.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    name = Normalize(name);
    if (value_flags.count(name) != 0) {
      if (!value) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat(a, " 缺少取值 / needs a value"));
        }
        value = args[++i];
      }
      out.values_[name].push_back(*value);
    } else if (bool_flags.count(name) != 0 && !value) {
      out.bools_.insert(name);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("未知选项 / unknown flag ", a));
    }
  }
  return out;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(Normalize(name));
  if (it == values_.end()) {
    return std::nullopt;
  }
  return it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(Normalize(name));
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

std::string Args::GetOr(const std::string& name, const std::string& fallback) const {
  auto v = Get(name);
  return v ? *v : fallback;
}

bool Args::Has(const std::string& name) const { return bools_.count(Normalize(name)) != 0; }

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      return true;
    }
  }
  return false;
}

bool WriteOutput(const std::string& path, const std::string& content, std::ostream& out,
                 std::ostream& err) {
  if (path.empty() || path == "-") {
    out << content;
    return static_cast<bool>(out);
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();
  if (!f) {
    err << "无法写入 / cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace halfsky::cli
