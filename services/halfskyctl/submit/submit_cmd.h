#ifndef HALFSKY_SERVICES_HALFSKYCTL_SUBMIT_SUBMIT_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_SUBMIT_SUBMIT_CMD_H_

// `halfskyctl submit FILE.csv`: uploads a CSV of indicator data through
// SubmissionService.SubmitStream in chunks (or validates it with
// --dry-run). See csv.h for the format.
//
// Request ids are "csv:<first 16 hex of the file's SHA-256>:<chunk size>:<i>",
// so running the same command again after an interruption resends the same
// ids: chunks already acknowledged are replayed by the server (not
// rewritten); --resume-state FILE additionally skips them without sending.
// Errors name the CSV line (BadRequest rows are mapped back to lines).
// Exit codes: 0 success, 1 data or server error, 2 usage.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

// `args` = what follows `halfskyctl submit`. Flags: --server (or
// $HALFSKY_SERVER), --token (or $HALFSKY_TOKEN), --chunk N (1000),
// --dry-run, --resume-state FILE, --progress / --no-progress (default: a
// progress bar only when stderr is a terminal).
int RunSubmitCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_SUBMIT_SUBMIT_CMD_H_
