#ifndef HALFSKY_SERVICES_WEB_UPLOAD_H_
#define HALFSKY_SERVICES_WEB_UPLOAD_H_

// The upload of a unit's filled report form (报表表式, .xlsx) or a CSV from
// its home page (/unit):
//
//   POST /api/upload?name=<file name>   body: the file's bytes, raw
//        (Content-Type: application/octet-stream; CSRF as every write,
//        console.h). At most HttpServerOptions.max_body_bytes (4 MiB):
//        beyond it 413 RESOURCE_EXHAUSTED, nothing read.
//
// The file is read by the one reading `halfskyctl submit` uses
// (common/submission_file/file.h: every sheet with a form table, or the
// CSV decoded and parsed; every problem named by its cell). Then every
// chunk of 1 000 values is validated upstream as a dry run
// (SubmissionService.SubmitBatch dry_run, the caller's token: authorization,
// catalog, year locks), and only when all pass written by SubmitBatch with
// request ids "web-upload:<first 32 hex of the file's SHA-256>:<chunk>",
// so uploading the same file again is answered by the service's stored
// replies and writes nothing twice. A file with any problem writes nothing.
//
// Answer (JSON):
//   200 {"written":true,"fileName":…,"workbook":…,"sheets":"已读取工作表 …",
//        "encoding":"UTF-8","values":N,"blankFormRows":N,"chunks":N,
//        "created":N,"revised":N,"unchanged":N,"replayedChunks":N,
//        "forms":[{"areaCode":…,"year":…}]}   (the area × year the file
//        fills: the page offers ReviewService.SubmitForm for each)
//   400 {"written":false,"status":"INVALID_ARGUMENT","message":"…",
//        "errorCount":N,"errors":["表式!D7 (数值)：不是数字 / …", …]}
//        (at most kMaxUploadErrors listed; errorCount counts them all; an
//        upstream violation is "表式 第7行 / sheet 表式, row 7: <field>: …")
//   other upstream errors: the gateway's error body (gateway.h) with
//        "written":false — or, when a write is refused after earlier chunks
//        were committed (a year locked or a form approved between the dry
//        run and the write, an outage), "written":"partial" with
//        "writtenValues", "writtenChunks" and "partialZh" saying so: what
//        the client is told is what happened. The same file again
//        completes it (the written chunks replay).
//
// Thread-safe.

#include <string>

#include "services/web/gateway.h"
#include "services/web/http_server.h"

namespace halfsky::web {

inline constexpr size_t kMaxUploadErrors = 200;
inline constexpr size_t kUploadChunk = 1000;

// `token`: the signed-in caller's bearer token (already checked by Console).
HttpResponse UploadSubmission(Gateway* gateway, const HttpRequest& request,
                              const std::string& token);

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_UPLOAD_H_
