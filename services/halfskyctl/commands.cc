#include "services/halfskyctl/commands.h"

#include <functional>
#include <map>

#include "services/halfskyctl/health_cmd.h"
#ifdef HALFSKYCTL_HAS_CATALOG
#include "services/halfskyctl/catalog/catalog_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_SUBMIT
#include "services/halfskyctl/submit/submit_cmd.h"
#endif

namespace halfsky {
namespace {

using Command = std::function<int(const std::vector<std::string>&, std::ostream&, std::ostream&)>;

struct Entry {
  Command run;
  const char* summary;
};

const std::map<std::string, Entry>& Commands() {
  static const auto* commands = new std::map<std::string, Entry>{
      {"health", {RunHealthCommand, "服务健康状态 / ask services for their grpc.health.v1 status"}},
#ifdef HALFSKYCTL_HAS_CATALOG
      {"catalog", {RunCatalogCommand, "指标目录 lint/show/doc / the indicator catalog"}},
#endif
#ifdef HALFSKYCTL_HAS_SUBMIT
      {"submit", {RunSubmitCommand, "上报数据 CSV / submit a CSV file of indicator data"}},
#endif
  };
  return *commands;
}

void Usage(std::ostream& out) {
  out << "halfskyctl — 金台区妇女发展规划监测评估 命令行客户端 / halfsky command-line client\n\n"
         "用法 usage: halfskyctl COMMAND [ARGS...]   (halfskyctl COMMAND --help for details)\n\n"
         "commands:\n";
  for (const auto& [name, entry] : Commands()) {
    out << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ')
        << entry.summary << "\n";
  }
  out << "\nenvironment: HALFSKY_SERVER, HALFSKY_TOKEN, HALFSKY_CATALOG\n";
}

}  // namespace

int RunHalfskyctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(args.empty() ? err : out);
    return args.empty() ? 2 : 0;
  }
  auto it = Commands().find(args[0]);
  if (it == Commands().end()) {
    err << "halfskyctl: unknown command '" << args[0] << "'\n\n";
    Usage(err);
    return 2;
  }
  return it->second.run(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
}

}  // namespace halfsky
