#ifndef HALFSKY_SERVICES_HALFSKYCTL_REVIEW_REVIEW_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_REVIEW_REVIEW_CMD_H_

// `halfskyctl validate` (逻辑审核: ReviewService.ValidateData) and
// `halfskyctl review submit|return|approve|unlock|list|history` (the review
// workflow); see their --help. Exit codes: 0 ok, 1 the server said no (for
// validate: an ERROR rule is broken), 2 usage, 3 unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunValidateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunReviewCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_REVIEW_REVIEW_CMD_H_
