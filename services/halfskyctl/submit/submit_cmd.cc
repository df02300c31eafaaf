#include "services/halfskyctl/submit/submit_cmd.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status/status.h"
#include "common/submission_file/csv.h"
#include "common/submission_file/file.h"
#include "common/text/encoding.h"
#include "common/xlsx/reader.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl submit [flags] FILE.csv|FILE.xlsx\n"
    "  上报一个CSV数据文件或填好的Excel报表 / submit a CSV file of indicator data, or a\n"
    "  filled report form (.xlsx, `halfskyctl form`; any workbook with these columns)\n"
    "  列 columns: 指标代码 区域代码 年份 [性别 城乡], 每行一种数据 / one payload a row:\n"
    "  分子+分母 | 公布数 published (比率无分子分母时) | 数值 | 工作进展+自评[+佐证材料];\n"
    "  数据来源 source, [备注 note] [修改原因 change_reason] [填报单位 unit_code]\n"
    "  文件编码 encoding: UTF-8（可带BOM）、GB18030/GBK（Excel“CSV（逗号分隔）”）自动识别；\n"
    "  UTF-16（Excel“Unicode文本”，制表符分隔）需带BOM / UTF-8 (BOM or not) and GB18030/GBK\n"
    "  are detected; UTF-16 (Excel \"Unicode text\", tab separated) needs its BOM\n"
    "  --encoding E          指定编码 / force the encoding: utf-8, gb18030, gbk, utf-16, auto\n"
    "  --chunk N             每块条数 / values per chunk (default 1000)\n"
    "  --dry-run             只校验不写入 / validate only, write nothing\n"
    "  --state-dir DIR       未完成上传的记录目录 / where unfinished uploads are journaled\n"
    "                        (default $HALFSKY_STATE_DIR, $XDG_STATE_HOME/halfskyctl,\n"
    "                        ~/.local/state/halfskyctl)\n"
    "  --resume-state FILE   用这个文件作上传记录 / use FILE as the upload journal\n"
    "  --interrupt-after N   演练：确认N块后中断 / drill: stop after N acknowledged chunks\n"
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
  // Field paths are relative to the chunk (data_values[i]); the chunk began
  // at value chunk_begin of the file.
  for (const FieldViolation& v : violations) {
    int index = 0;
    std::string rest;
    if (SplitField(v.field, &index, &rest) && chunk_begin + index < values.size()) {
      const submit::CsvValue& value = values[chunk_begin + index];
      if (value.sheet.empty()) {
        err << file << ":" << value.line << ": ";
      } else {
        // A workbook's row: "表式 第7行 / sheet 表式, row 7".
        err << file << ": " << value.sheet << " 第" << value.line << "行 / sheet " << value.sheet
            << ", row " << value.line << ": ";
      }
      err << (rest.empty() ? "" : rest + ": ") << v.description << "\n";
    } else {
      err << file << ": " << v.field << ": " << v.description << "\n";
    }
  }
}

// halfskyctl's exit codes: 3 when the server is unreachable or the deadline
// passed (a retry may succeed), 1 when it said no.
// A fresh random id for one upload (16 hex digits).
std::string NewUploadId() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 2; ++i) {
    const uint64_t x = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    out += absl::StrFormat("%08x", static_cast<uint32_t>(x ^ (x >> 32)));
  }
  return out;
}

// The journal of one unfinished upload: which upload id its request ids
// carry and how many chunks the server acknowledged. Written (atomically:
// temporary file + rename) before the first chunk is sent and after each
// acknowledgement, removed when the upload completed; so only a resumed
// interrupted upload reuses request ids, and a file submitted again after
// it completed is a new upload that writes again.
struct Journal {
  std::string path;  // "" = no journal (no state directory)
  std::string file_hash;
  int chunk = 0;
  std::string upload_id;
  size_t acked = 0;

  // Reads `path`; false when absent or for another file / chunk size.
  bool Load() {
    std::ifstream in(path);
    std::string magic, h, id;
    int c = 0;
    size_t n = 0;
    if (!(in >> magic >> h >> c >> id >> n) || magic != "halfskyctl-upload-v2" || h != file_hash ||
        c != chunk || id.empty()) {
      return false;
    }
    upload_id = id;
    acked = n;
    return true;
  }
  bool Save() const {
    if (path.empty()) {
      return true;
    }
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "halfskyctl-upload-v2 " << file_hash << " " << chunk << " " << upload_id << " "
          << acked << "\n";
      if (!out.flush()) {
        return false;
      }
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
  }
  void Remove() const {
    if (!path.empty()) {
      std::remove(path.c_str());
    }
  }
};

// $HALFSKY_STATE_DIR, else $XDG_STATE_HOME/halfskyctl, else
// ~/.local/state/halfskyctl; "" when none is known.
std::string DefaultStateDir() {
  if (const char* d = std::getenv("HALFSKY_STATE_DIR"); d != nullptr && *d != '\0') {
    return d;
  }
  if (const char* d = std::getenv("XDG_STATE_HOME"); d != nullptr && *d != '\0') {
    return std::string(d) + "/halfskyctl";
  }
  if (const char* d = std::getenv("HOME"); d != nullptr && *d != '\0') {
    return std::string(d) + "/.local/state/halfskyctl";
  }
  return "";
}

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
  if (cli::WantsHelp(raw_args)) {
    out << kUsage << ClientFlagsHelp();
    return 0;
  }
  ClientOptions client;
  absl::StatusOr<cli::Args> args =
      ParseWithClientFlags(raw_args, Target::kSubmission,
                           {"chunk", "resume-state", "state-dir", "interrupt-after", "encoding"},
                           {"dry-run", "progress", "no-progress"}, &client);
  if (!args.ok()) {
    err << "halfskyctl submit: " << args.status().message() << "\n" << kUsage;
    return 2;
  }
  int chunk = 1000;
  if (std::optional<std::string> v = args->Get("chunk");
      v && (!absl::SimpleAtoi(*v, &chunk) || chunk < 1 || chunk > 10000)) {
    err << "halfskyctl submit: --chunk 须为1—10000 / --chunk must be 1..10000\n";
    return 2;
  }
  absl::StatusOr<TextEncoding> encoding = ParseTextEncoding(args->GetOr("encoding", "auto"));
  if (!encoding.ok()) {
    err << "halfskyctl submit: --encoding: " << encoding.status().message() << "\n";
    return 2;
  }
  const bool dry_run = args->Has("dry-run");
  const int progress_mode = args->Has("no-progress") ? 0
                            : args->Has("progress")  ? 1
                                                     : -1;  // -1 auto
  const std::string state_file = args->GetOr("resume-state", "");
  const std::string state_dir = args->GetOr("state-dir", DefaultStateDir());
  int interrupt_after = -1;
  if (std::optional<std::string> v = args->Get("interrupt-after");
      v && (!absl::SimpleAtoi(*v, &interrupt_after) || interrupt_after < 0)) {
    err << "halfskyctl submit: --interrupt-after needs a number of chunks\n";
    return 2;
  }
  if (args->positional().size() > 1) {
    err << "halfskyctl submit: 只能提交一个文件 / one file at a time\n";
    return 2;
  }
  const std::string file = args->positional().empty() ? "" : args->positional()[0];
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
  // The one reading of a submitted file (common/submission_file/file.h),
  // shared with halfsky-web's upload.
  absl::StatusOr<submit::SubmissionFile> read =
      submit::ReadSubmissionFile(content, file, *encoding);
  if (!read.ok()) {
    err << "halfskyctl submit: " << read.status().message() << "\n";
    return 2;
  }
  if (!read->sheets.empty()) {  // empty: a CSV, or the workbook could not be read
    err << submit::DescribeSheets(read->sheets) << "\n";
  }
  if (read->encoding.has_value()) {
    err << "已按 " << TextEncodingName(*read->encoding) << " 编码读取 / read as "
        << TextEncodingName(*read->encoding) << "\n";
  }
  submit::CsvParseResult parsed = std::move(read->parsed);
  if (parsed.form && parsed.blank_form_rows > 0) {
    err << "未填 " << parsed.blank_form_rows << " 行（跳过） / " << parsed.blank_form_rows
        << " rows left blank (skipped)\n";
  }
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

  // The journal of this (server, principal, file, chunk size), if an
  // earlier upload of it was interrupted.
  Journal journal;
  journal.file_hash = file_hash;
  journal.chunk = chunk;
  if (!state_file.empty()) {
    journal.path = state_file;
  } else if (!state_dir.empty() && !dry_run) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    const std::string who = Sha256Hex(
        absl::StrCat(client.server, "\n", Sha256Hex(client.token), "\n", file_hash, "\n", chunk));
    journal.path = absl::StrCat(state_dir, "/upload-", who.substr(0, 16), ".journal");
  }
  const bool resuming = !dry_run && !journal.path.empty() && journal.Load();
  if (!resuming) {
    journal.upload_id = NewUploadId();
    journal.acked = 0;
  }
  const size_t skip = std::min(journal.acked, chunks);
  auto request_id = [&](size_t i) {
    return absl::StrCat("csv:", file_hash, ":", journal.upload_id, ":", chunk, ":", i);
  };

  const bool progress_on =
      progress_mode == 1 || (progress_mode == -1 && &err == &std::cerr && isatty(STDERR_FILENO));
  Progress progress(progress_on, n, err);
  auto channel = Dial(client);
  auto stub = v1::SubmissionService::NewStub(channel);

  // Every chunk still to send is validated (and authorized, and checked
  // against year locks) first, as a dry run: a file with any bad row
  // writes nothing. Returns the exit code (0 when all pass).
  auto validate = [&](size_t from) {
    int failure = 0;
    for (size_t c = from; c < chunks; ++c) {
      v1::SubmitBatchRequest req;
      req.set_request_id(absl::StrCat("csv-check:", file_hash, ":", journal.upload_id, ":", c));
      req.set_dry_run(true);
      const size_t begin = c * chunk, end = std::min(n, begin + chunk);
      for (size_t i = begin; i < end; ++i) {
        *req.add_data_values() = parsed.values[i].value;
      }
      v1::SubmitBatchResponse resp;
      // A dry run with its request id: safe to send again.
      grpc::Status st = CallWithRetries(
          client, Idempotency::kIdempotent,
          [&](grpc::ClientContext* ctx) { return stub->SubmitBatch(ctx, req, &resp); }, err);
      if (!st.ok()) {
        ReportError(st, file, parsed.values, begin, err);
        failure = ExitCode(st);
        if (st.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
          break;
        }
      }
      if (dry_run) {
        progress.Update(end);
      }
    }
    return failure;
  };

  if (dry_run) {
    const int failure = validate(0);
    out << (failure == 0 ? "校验通过，未写入 / dry run: all " : "校验未通过 / dry run failed: ")
        << n << " 条 values in " << chunks << " 块 chunks\n";
    return failure;
  }
  if (const int failure = validate(skip); failure != 0) {
    err << "未上传任何数据 / nothing was uploaded\n";
    return failure;
  }
  if (!journal.Save()) {
    err << "halfskyctl submit: 无法写入上传记录 / cannot write the upload journal " << journal.path
        << "\n";
    return 1;
  }

  // What the server says happened: created / revised / unchanged are this
  // run's writes; a replayed chunk was written by the interrupted run (the
  // server answered with its stored reply and wrote nothing now).
  int64_t created = 0, revised = 0, unchanged = 0, replayed_chunks = 0, replayed_values = 0;
  progress.Update(skip * chunk > n ? n : skip * chunk);
  // Every chunk carries its request id, so when the server is busy (or
  // unavailable) the stream is opened again from the first chunk not
  // acknowledged; a chunk it had committed is answered as a replay.
  size_t next = skip;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    PrepareContext(client, &ctx);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60 + static_cast<int64_t>(chunks - next) * 10));
    auto stream = stub->SubmitStream(&ctx);
    grpc::Status failed;
    bool interrupted = false;
    bool closed_without_status = false;
    for (; next < chunks; ++next) {
      const size_t c = next;
      v1::SubmitStreamRequest req;
      req.set_request_id(request_id(c));
      const size_t begin = c * chunk, end = std::min(n, begin + chunk);
      for (size_t i = begin; i < end; ++i) {
        *req.add_data_values() = parsed.values[i].value;
      }
      v1::SubmitStreamResponse ack;
      interrupted = interrupt_after >= 0 && c >= skip + interrupt_after;
      if (interrupted) {
        ctx.TryCancel();
      }
      if (interrupted || !stream->Write(req) || !stream->Read(&ack)) {
        grpc::Status st = stream->Finish();
        closed_without_status = st.ok();
        failed = st.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed") : st;
        break;
      }
      if (ack.replayed()) {
        ++replayed_chunks;
        replayed_values += ack.created_count() + ack.revised_count() + ack.unchanged_count();
      } else {
        created += ack.created_count();
        revised += ack.revised_count();
        unchanged += ack.unchanged_count();
      }
      journal.acked = c + 1;
      journal.Save();
      progress.Update(end);
    }
    if (next == chunks) {
      stream->WritesDone();
      grpc::Status st = stream->Finish();
      if (st.ok()) {
        break;
      }
      failed = st;
    }
    if (!interrupted && !closed_without_status) {
      if (std::optional<absl::Duration> wait =
              RetryWait(client, Idempotency::kIdempotent, failed, attempt + 1, err);
          wait.has_value()) {
        absl::SleepFor(*wait);
        continue;
      }
    }
    if (next == chunks) {
      err << file << ": " << DescribeRpcError(failed) << "\n";
      return ExitCode(failed);
    }
    const size_t begin = next * chunk;
    ReportError(failed, file, parsed.values, begin, err);
    err << "已确认 " << next << "/" << chunks << " 块；重新运行同一命令即可续传 / " << next
        << " of " << chunks << " chunks acknowledged; run the same command again to resume\n";
    return interrupted || closed_without_status ? 3 : ExitCode(failed);
  }
  journal.Remove();
  out << "已提交 " << file << "：" << n << " 条，新增 " << created << "，修订 " << revised
      << "，未变 " << unchanged << "；共 " << chunks << " 块";
  if (skip > 0) {
    out << "（续传：跳过已确认 " << skip << " 块）";
  }
  if (replayed_chunks > 0) {
    out << "（重放 " << replayed_chunks << " 块 " << replayed_values
        << " 条：中断前已写入，本次未重复写入）";
  }
  out << "\nsubmitted " << n << " values: created " << created << ", revised " << revised
      << ", unchanged " << unchanged << "; " << chunks << " chunks";
  if (skip > 0) {
    out << " (resumed: " << skip << " skipped as already acknowledged)";
  }
  if (replayed_chunks > 0) {
    out << " (" << replayed_chunks << " chunks replayed: " << replayed_values
        << " values written before the interruption, not written again)";
  }
  out << "\n";
  return 0;
}

}  // namespace halfsky
