#include "services/web/upload.h"

#include <openssl/evp.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/submission_file/file.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::web {
namespace {

constexpr char kSubmitBatch[] = "halfsky.v1.SubmissionService/SubmitBatch";

std::string Sha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

std::string JsonString(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(v, &out);
  return out;
}

std::string JsonStrings(const std::vector<std::string>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size() && i < kMaxUploadErrors; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", JsonString(list[i]));
  }
  return out + "]";
}

HttpResponse Rejected(const std::string& message, const std::vector<std::string>& errors) {
  return HttpResponse::Json(
      400, absl::StrCat(R"({"written":false,"status":"INVALID_ARGUMENT","code":3,"message":)",
                        JsonString(message), R"(,"errorCount":)", errors.size(), R"(,"errors":)",
                        JsonStrings(errors), "}"));
}

// An upstream error as the gateway answers it, with "written":false.
HttpResponse Upstream(const grpc::Status& status) {
  std::string body = ErrorJson(status);
  if (!body.empty() && body.front() == '{') {
    body.insert(1, R"("written":false,)");
  }
  return HttpResponse::Json(HttpStatusForGrpc(status.error_code()), body);
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

// One chunk's request in JSON (the gateway's mapping).
std::string ChunkJson(const std::string& request_id, bool dry_run,
                      const std::vector<submit::TableValue>& values, size_t begin, size_t end) {
  v1::SubmitBatchRequest req;
  req.set_request_id(request_id);
  req.set_dry_run(dry_run);
  for (size_t i = begin; i < end; ++i) {
    *req.add_data_values() = values[i].value;
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(req, &json);
  return json;
}

}  // namespace

HttpResponse UploadSubmission(Gateway* gateway, const HttpRequest& request,
                              const std::string& token) {
  auto name_it = request.query.find("name");
  const std::string name = name_it == request.query.end() ? "" : name_it->second;
  if (request.body.empty()) {
    return Rejected("文件为空 / the file is empty", {"文件为空 / the file is empty"});
  }
  absl::StatusOr<submit::SubmissionFile> read = submit::ReadSubmissionFile(request.body, name);
  if (!read.ok()) {
    return Rejected(std::string(read.status().message()), {std::string(read.status().message())});
  }
  const submit::TableParseResult& parsed = read->parsed;
  if (!parsed.errors.empty()) {
    return Rejected(
        absl::StrCat("文件有 ", parsed.errors.size(), " 处错误，未写入任何数据 / the file has ",
                     parsed.errors.size(), " problems; nothing was written"),
        parsed.errors);
  }
  const std::vector<submit::TableValue>& values = parsed.values;
  const size_t n = values.size();
  const size_t chunks = (n + kUploadChunk - 1) / kUploadChunk;
  const std::string hash = Sha256Hex(request.body).substr(0, 32);

  // Every chunk validated first (dry run): a file with any bad row writes
  // nothing. Violations are mapped back to the file's rows.
  std::vector<std::string> errors;
  for (size_t c = 0; c < chunks; ++c) {
    const size_t begin = c * kUploadChunk, end = std::min(n, begin + kUploadChunk);
    std::string ignored;
    const grpc::Status st = gateway->Call(
        kSubmitBatch,
        ChunkJson(absl::StrCat("web-upload-check:", hash, ":", c), true, values, begin, end), token,
        &ignored);
    if (st.ok()) {
      continue;
    }
    const std::vector<FieldViolation> violations = BadRequestViolations(FromGrpcStatus(st));
    if (st.error_code() != grpc::INVALID_ARGUMENT || violations.empty()) {
      return Upstream(st);
    }
    for (const FieldViolation& v : violations) {
      int index = 0;
      std::string rest;
      if (SplitField(v.field, &index, &rest) && begin + index < n) {
        errors.push_back(absl::StrCat(submit::DescribeRow(values[begin + index]), ": ",
                                      rest.empty() ? "" : rest + ": ", v.description));
      } else {
        errors.push_back(absl::StrCat(v.field, ": ", v.description));
      }
    }
  }
  if (!errors.empty()) {
    return Rejected(absl::StrCat("服务器拒绝了 ", errors.size(),
                                 " 处数据，未写入任何数据 / the server rejected ", errors.size(),
                                 " values; nothing was written"),
                    errors);
  }

  int64_t created = 0, revised = 0, unchanged = 0, replayed = 0;
  for (size_t c = 0; c < chunks; ++c) {
    const size_t begin = c * kUploadChunk, end = std::min(n, begin + kUploadChunk);
    std::string json;
    const grpc::Status st = gateway->Call(
        kSubmitBatch,
        ChunkJson(absl::StrCat("web-upload:", hash, ":", c), false, values, begin, end), token,
        &json);
    if (!st.ok()) {
      if (c == 0) {
        return Upstream(st);
      }
      // Earlier chunks are committed: say so, never "nothing written". The
      // same file again completes it (their request ids replay).
      std::string body = ErrorJson(st);
      if (!body.empty() && body.front() == '{') {
        body.insert(1, absl::StrCat(R"("written":"partial","writtenValues":)", begin,
                                    R"(,"writtenChunks":)", c, R"(,"partialZh":)",
                                    JsonString(absl::StrCat(
                                        "已写入前 ", begin, " 条（", c, " 块），其余被拒绝；",
                                        "原因消除后请重新上传同一文件补全（已写入部分不会重复） / ",
                                        begin, " values were written, the rest refused: upload ",
                                        "the same file again to complete it")),
                                    ","));
      }
      return HttpResponse::Json(HttpStatusForGrpc(st.error_code()), body);
    }
    v1::SubmitBatchResponse resp;
    google::protobuf::util::JsonParseOptions lenient;
    lenient.ignore_unknown_fields = true;
    (void)google::protobuf::util::JsonStringToMessage(json, &resp, lenient);
    if (resp.replayed()) {
      ++replayed;
    } else {
      created += resp.created_count();
      revised += resp.revised_count();
      unchanged += resp.unchanged_count();
    }
  }
  // The forms the file fills (area × year), for the page's 报送 buttons.
  std::set<std::pair<std::string, int>> forms;
  for (const submit::TableValue& v : values) {
    forms.insert({v.value.key().area_code(), v.value.key().year()});
  }
  std::string forms_json = "[";
  for (const auto& [area, year] : forms) {
    absl::StrAppend(&forms_json, forms_json.size() > 1 ? "," : "", R"({"areaCode":)",
                    JsonString(area), R"(,"year":)", year, "}");
  }
  forms_json += "]";
  std::string body = absl::StrCat(
      R"({"written":true,"fileName":)", JsonString(name), R"(,"workbook":)",
      read->workbook ? "true" : "false", R"(,"sheets":)",
      JsonString(read->sheets.empty() ? "" : submit::DescribeSheets(read->sheets)),
      R"(,"encoding":)",
      JsonString(read->encoding.has_value() ? TextEncodingName(*read->encoding) : ""),
      R"(,"values":)", n, R"(,"blankFormRows":)", parsed.blank_form_rows, R"(,"chunks":)", chunks,
      R"(,"created":)", created, R"(,"revised":)", revised, R"(,"unchanged":)", unchanged,
      R"(,"replayedChunks":)", replayed, R"(,"forms":)", forms_json, "}");
  return HttpResponse::Json(200, body);
}

}  // namespace halfsky::web
