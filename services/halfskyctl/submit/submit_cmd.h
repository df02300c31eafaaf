#ifndef HALFSKY_SERVICES_HALFSKYCTL_SUBMIT_SUBMIT_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_SUBMIT_SUBMIT_CMD_H_

// `halfskyctl submit FILE.csv|FILE.xlsx`: uploads a CSV of indicator data,
// or a filled report form / workbook, through SubmissionService.SubmitStream
// in chunks (or validates it with --dry-run). See csv.h for the CSV format,
// xlsx.h for workbooks (a file whose name ends .xlsx/.xlsm or that starts
// like a zip is a workbook; which sheets were read is one line on stderr;
// an .xls or encrypted workbook is refused with what to do). A form's rows
// left blank are skipped and counted on stderr ("未填 N 行").
//
// Before anything is written, every chunk is validated by the server as a
// dry run (SubmitBatch dry_run): a file with any bad row writes nothing.
//
// Request ids are "csv:<first 16 hex of the file's SHA-256>:<upload id>:
// <chunk size>:<i>", where the upload id is random per upload and kept in a
// small journal (--state-dir, one file per server, token, file and chunk
// size; or --resume-state FILE) until the upload completes. So running the
// same command after an interruption resumes: acknowledged chunks are
// skipped, and a chunk the server committed but whose acknowledgement was
// lost is replayed by the server (its stored reply, nothing written twice)
// and reported as replayed, not as new writes. Once an upload completed,
// its journal is gone, and submitting the same file again is a new upload
// that writes again (a correction B followed by A again leaves A's values).
// Errors name the CSV line or the sheet's cell / row (BadRequest rows are
// mapped back to lines or rows; the
// server lists at most the first violations, and says how many there were).
// Exit codes: 0 success, 1 data or server error, 2 usage, 3 server
// unreachable, deadline passed or upload interrupted (run again to resume).

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

// `args` = what follows `halfskyctl submit`. Flags: --server (or
// $HALFSKY_SERVER), --token (or $HALFSKY_TOKEN), --chunk N (1000),
// --dry-run, --state-dir DIR, --resume-state FILE, --interrupt-after N (a
// drill: cancels the stream after N acknowledged chunks, as a lost
// connection would; exit code 3), --progress / --no-progress (default: a
// progress bar only when stderr is a terminal), --encoding
// utf-8|gb18030|gbk|utf-16|utf-16be|auto (default auto: the file is decoded
// as common/text/encoding.h detects, and what it was read as is one line on
// stderr; a file that cannot be decoded is refused before any RPC; UTF-16
// files are tab separated, all others comma separated).
int RunSubmitCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_SUBMIT_SUBMIT_CMD_H_
