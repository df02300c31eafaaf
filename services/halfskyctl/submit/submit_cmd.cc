#include "services/halfskyctl/submit/submit_cmd.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/halfskyctl/client.h"
#include "services/halfskyctl/submit/csv.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl submit [flags] FILE.csv\n"
    "  上报一个CSV数据文件 / submit a CSV file of indicator data\n"
    "  --chunk N             每块条数 / values per chunk (default 1000)\n"
    "  --dry-run             只校验不写入 / validate only, write nothing\n"
    "  --resume-state FILE   记录已确认的块，续传时跳过 / remember acknowledged chunks\n"
    "  --progress | --no-progress  进度条（默认仅终端） / progress bar (default: on a terminal)\n";

std::string Sha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

// "data_values[12].key.year" → (12, "key.year").
bool SplitField(const std::string& field, int* index, std::string* rest) {
  const std::string prefix = "data_values[";
  if (field.rfind(prefix, 0) != 0) {
    return false;
  }
  const size_t close = field.find(']', prefix.size());
  if (close == std::string::npos ||
      !absl::SimpleAtoi(field.substr(prefix.size(), close - prefix.size()), index)) {
    return false;
  }
  *rest = close + 1 < field.size() && field[close + 1] == '.' ? field.substr(close + 2) : "";
  return true;
}

// Prints an RPC error, BadRequest rows mapped back to CSV lines.
void ReportError(const grpc::Status& status, const std::string& file,
                 const std::vector<submit::CsvValue>& values, size_t chunk_begin,
                 std::ostream& err) {
  const absl::Status st = FromGrpcStatus(status);
  const std::vector<FieldViolation> violations = BadRequestViolations(st);
  if (violations.empty()) {
    err << file << ": " << DescribeRpcError(status) << "\n";
    return;
  }
  err << file << ": 服务器拒绝了数据 / the server rejected the data (" << st.message() << ")\n";
  for (const FieldViolation& v : violations) {
    int index = 0;
    std::string rest;
    if (SplitField(v.field, &index, &rest) && chunk_begin + index < values.size()) {
      err << file << ":" << values[chunk_begin + index].line << ": "
          << (rest.empty() ? "" : rest + ": ") << v.description << "\n";
    } else {
      err << file << ": " << v.field << ": " << v.description << "\n";
    }
  }
}

// halfskyctl's exit codes: 3 when the server is unreachable or the deadline
// passed (a retry may succeed), 1 when it said no.
int ExitCode(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
             ? 3
             : 1;
}

class Progress {
 public:
  Progress(bool enabled, size_t total, std::ostream& err)
      : enabled_(enabled), total_(total), err_(err) {}
  void Update(size_t done) {
    if (!enabled_ || total_ == 0) {
      return;
    }
    const int width = 40;
    const int filled = static_cast<int>(width * done / total_);
    err_ << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << done
         << "/" << total_ << std::flush;
    if (done == total_) {
      err_ << "\n";
    }
  }

 private:
  const bool enabled_;
  const size_t total_;
  std::ostream& err_;
};

}  // namespace

int RunSubmitCommand(const std::vector<std::string>& raw_args, std::ostream& out,
                     std::ostream& err) {
  std::vector<std::string> args = raw_args;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      out << kUsage << ClientFlagsHelp();
      return 0;
    }
  }
  absl::StatusOr<ClientOptions> client = ExtractClientOptions(&args, Target::kSubmission);
  if (!client.ok()) {
    err << "halfskyctl submit: " << client.status().message() << "\n" << kUsage;
    return 2;
  }
  int chunk = 1000;
  bool dry_run = false;
  int progress_mode = -1;  // -1 auto
  std::string state_file;
  std::string file;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    const size_t eq = a.find('=');
    const bool has_eq = a.rfind("--", 0) == 0 && eq != std::string::npos;
    if (has_eq) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto take = [&](std::string* dst) {
      if (has_eq) {
        *dst = value;
        return true;
      }
      if (i + 1 >= args.size()) {
        return false;
      }
      *dst = args[++i];
      return true;
    };
    if (a == "--chunk") {
      std::string v;
      if (!take(&v) || !absl::SimpleAtoi(v, &chunk) || chunk < 1 || chunk > 10000) {
        err << "halfskyctl submit: --chunk 须为1—10000 / --chunk must be 1..10000\n";
        return 2;
      }
    } else if (a == "--dry-run" || a == "--dry_run") {
      dry_run = true;
    } else if (a == "--resume-state" || a == "--resume_state") {
      if (!take(&state_file)) {
        err << "halfskyctl submit: --resume-state needs a file\n";
        return 2;
      }
    } else if (a == "--progress") {
      progress_mode = 1;
    } else if (a == "--no-progress") {
      progress_mode = 0;
    } else if (a.rfind("--", 0) == 0) {
      err << "halfskyctl submit: 未知选项 / unknown flag " << a << "\n" << kUsage;
      return 2;
    } else if (file.empty()) {
      file = a;
    } else {
      err << "halfskyctl submit: 只能提交一个文件 / one file at a time\n";
      return 2;
    }
  }
  if (file.empty()) {
    err << kUsage;
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    err << "halfskyctl submit: 无法读取 / cannot read " << file << "\n";
    return 1;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string content = buffer.str();
  submit::CsvParseResult parsed = submit::ParseSubmissionCsv(content);
  if (!parsed.errors.empty()) {
    for (const auto& e : parsed.errors) {
      err << file << ": " << e << "\n";
    }
    err << "未上传任何数据 / nothing was uploaded\n";
    return 1;
  }
  const std::string file_hash = Sha256Hex(content).substr(0, 16);
  const size_t n = parsed.values.size();
  const size_t chunks = (n + chunk - 1) / chunk;
  auto request_id = [&](size_t i) { return absl::StrCat("csv:", file_hash, ":", chunk, ":", i); };

  // Resume state: "<file hash> <chunk size> <chunks acknowledged>".
  size_t skip = 0;
  if (!state_file.empty()) {
    std::ifstream s(state_file);
    std::string h;
    int c = 0;
    size_t acked = 0;
    if (s >> h >> c >> acked && h == file_hash && c == chunk) {
      skip = std::min(acked, chunks);
    }
  }
  auto save_state = [&](size_t acked) {
    if (state_file.empty()) {
      return;
    }
    std::ofstream s(state_file, std::ios::trunc);
    s << file_hash << " " << chunk << " " << acked << "\n";
  };

  const bool progress_on =
      progress_mode == 1 || (progress_mode == -1 && &err == &std::cerr && isatty(STDERR_FILENO));
  Progress progress(progress_on, n, err);
  auto channel = Dial(*client);
  auto stub = v1::SubmissionService::NewStub(channel);

  if (dry_run) {
    bool ok = true;
    int failure = 1;
    for (size_t c = 0; c < chunks; ++c) {
      v1::SubmitBatchRequest req;
      req.set_request_id(request_id(c));
      req.set_dry_run(true);
      const size_t begin = c * chunk, end = std::min(n, begin + chunk);
      for (size_t i = begin; i < end; ++i) {
        *req.add_data_values() = parsed.values[i].value;
      }
      grpc::ClientContext ctx;
      PrepareContext(*client, &ctx);
      v1::SubmitBatchResponse resp;
      grpc::Status st = stub->SubmitBatch(&ctx, req, &resp);
      if (!st.ok()) {
        ReportError(st, file, parsed.values, begin, err);
        ok = false;
        failure = ExitCode(st);
        if (st.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
          break;
        }
      }
      progress.Update(end);
    }
    out << (ok ? "校验通过，未写入 / dry run: all " : "校验未通过 / dry run failed: ") << n
        << " 条 values in " << chunks << " 块 chunks\n";
    return ok ? 0 : failure;
  }

  grpc::ClientContext ctx;
  PrepareContext(*client, &ctx);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(60 + static_cast<int64_t>(chunks) * 10));
  auto stream = stub->SubmitStream(&ctx);
  int64_t created = 0, revised = 0, unchanged = 0, replayed = 0;
  progress.Update(skip * chunk > n ? n : skip * chunk);
  for (size_t c = skip; c < chunks; ++c) {
    v1::SubmitStreamRequest req;
    req.set_request_id(request_id(c));
    const size_t begin = c * chunk, end = std::min(n, begin + chunk);
    for (size_t i = begin; i < end; ++i) {
      *req.add_data_values() = parsed.values[i].value;
    }
    v1::SubmitStreamResponse ack;
    if (!stream->Write(req) || !stream->Read(&ack)) {
      grpc::Status st = stream->Finish();
      ReportError(st.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed") : st, file,
                  parsed.values, begin, err);
      err << "已确认 " << c << "/" << chunks << " 块；重新运行同一命令即可续传 / " << c << " of "
          << chunks << " chunks acknowledged; run the same command again to resume\n";
      return ExitCode(st);
    }
    created += ack.created_count();
    revised += ack.revised_count();
    unchanged += ack.unchanged_count();
    replayed += ack.replayed() ? 1 : 0;
    save_state(c + 1);
    progress.Update(end);
  }
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  if (!st.ok()) {
    err << file << ": " << DescribeRpcError(st) << "\n";
    return ExitCode(st);
  }
  out << "已提交 " << file << "：" << n << " 条，新增 " << created << "，修订 " << revised
      << "，未变 " << unchanged << "；共 " << chunks << " 块";
  if (skip > 0) {
    out << "（跳过已确认 " << skip << " 块）";
  }
  if (replayed > 0) {
    out << "（重放 " << replayed << " 块）";
  }
  out << "\nsubmitted " << n << " values: created " << created << ", revised " << revised
      << ", unchanged " << unchanged << "; " << chunks << " chunks";
  if (skip > 0) {
    out << " (" << skip << " skipped as already acknowledged)";
  }
  if (replayed > 0) {
    out << " (" << replayed << " replayed)";
  }
  out << "\n";
  return 0;
}

}  // namespace halfsky
