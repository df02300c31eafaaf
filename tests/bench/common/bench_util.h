#ifndef HALFSKY_TESTS_BENCH_COMMON_BENCH_UTIL_H_
#define HALFSKY_TESTS_BENCH_COMMON_BENCH_UTIL_H_

// Pieces every benchmark shares: the baseline servers a service is measured
// against, a median, and flag parsing. Benchmarks print figures; they never
// assert on speed.

#include <string>
#include <vector>

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"

namespace halfsky::bench {

// Method names the baselines answer.
inline constexpr char kEchoMethod[] = "/bench.Echo/Echo";
inline constexpr char kCannedMethod[] = "/bench.Echo/Canned";

// Echo and Canned as raw callback methods of an ordinary grpc::Service, so
// that they can be registered in a RunningServer (common/server) next to the
// real service and pay for the same bootstrap (metrics interceptor, health,
// reflection): Echo answers with the request bytes, Canned with `canned`.
// Thread-safe; must outlive the server it is registered in.
class EchoService final : public grpc::Service {
 public:
  explicit EchoService(std::string canned = "");

 private:
  const std::string canned_;
};

// The same two methods as a generic callback service, for a plain
// grpc::ServerBuilder (RegisterCallbackGenericService): the bare gRPC
// baseline, without any halfsky bootstrap. Thread-safe.
class BareEchoService final : public grpc::CallbackGenericService {
 public:
  explicit BareEchoService(std::string canned = "");
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  const std::string canned_;
};

// One slice holding `bytes`.
grpc::ByteBuffer ToBuffer(const std::string& bytes);

// Median of `values` (0 when empty).
double Median(std::vector<double> values);

// Value of `--name=V` in argv, or `def`. Integers and doubles.
int IntFlag(int argc, char** argv, const char* name, int def);
double DoubleFlag(int argc, char** argv, const char* name, double def);
std::string StringFlag(int argc, char** argv, const char* name, const std::string& def);

// The 1-minute load average (/proc/loadavg), or -1.
double LoadAverage();

}  // namespace halfsky::bench

#endif  // HALFSKY_TESTS_BENCH_COMMON_BENCH_UTIL_H_
