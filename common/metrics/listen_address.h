#ifndef HALFSKY_COMMON_METRICS_LISTEN_ADDRESS_H_
#define HALFSKY_COMMON_METRICS_LISTEN_ADDRESS_H_

// The one parser of the HOST:PORT a libmicrohttpd listener binds (the
// metrics endpoint, halfsky-web's HTTP server): HOST an IPv4 address,
// "localhost" (127.0.0.1), or "", "*", "[::]" (every interface, 0.0.0.0);
// PORT 0..65535 (0: the kernel picks one). Pure; thread-safe.

#include <netinet/in.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halfsky {

// INVALID_ARGUMENT naming `what` (e.g. "metrics", "--http_listen") for a
// missing colon, a bad port or a host that is no IPv4 address.
absl::StatusOr<sockaddr_in> ParseIpv4ListenAddress(const std::string& address,
                                                   absl::string_view what);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_METRICS_LISTEN_ADDRESS_H_
