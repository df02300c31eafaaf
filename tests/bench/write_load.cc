// write_load: the harness's load generator for writes (issue #20).
//
// h2load can only send one fixed body; a write needs a fresh request id and
// value per call. The unary modes (echo, batch) send one call per HTTP/2
// stream with a new body each, over `--connections` TCP connections with
// `--in_flight` calls outstanding on each. They speak gRPC's HTTP/2 framing
// through libnghttp2, h2load's own library, from `--threads` event loops
// (default 1, as run.sh's `h2load -t 1`), each owning every threads-th
// connection, so that a call costs this generator about what it costs
// h2load (gRPC's C++ client cost 2.5-4 times as much, docs/BENCHMARKS.md).
// Stream mode uses gRPC's C++ client: one channel and one SubmitStream per
// connection, 1 000-value chunks, so its per-call cost is not the limit.
//
// Modes:
//   echo    `--method` (default /bench.Echo/Echo) with a `--body_bytes`
//           body (default 64, as run.sh's h2load frame), a counter stamped
//           into each body. For the bare echo server: the generator's own
//           rate, to compare with h2load's on the same server.
//   batch   /halfsky.v1.SubmissionService/SubmitBatch with one value, a fresh
//           request id and a fresh value per call, bearer `--token_file`.
//           A reply counts as OK only when its status is OK and it reports
//           exactly one CREATED or REVISED value (durably committed).
//   stream  SubmitStream: `--connections` streams (one per channel), each
//           sending `--chunk`-value chunks with `--in_flight` chunks
//           unacknowledged; every value has a new key (CREATED) until the key
//           space (`--areas` areas) is used up, then new values (REVISED).
//           Counts acknowledged created + revised values.
//
// Keys (batch, stream): indicator HEALTH-B01..HEALTH-B40 × area `--area_prefix`
// followed by 4 digits (0000 .. areas-1) × year 2020..2026 × sex (3) ×
// residence (3): the catalog fragment tests/bench/writes.sh writes.
// With --key_plan=FILE (tests/bench/province_gen.py's keys.txt) the key
// space is instead the file's: its slots (each `indicator ID KIND SEX RES
// MIN MAX MULT` line with its breakdowns: sex 3 if SEX, residence 3 if RES)
// × its `years Y0 Y1` × its `area CODE` lines, area-major (key i: slot i %
// slots, year (i / slots) % years, area i / (slots × years)); each value of
// the indicator's kind (VALUE a value, COUNT a whole one, PROPORTION/RATE a
// fraction with a denominator of 10 000..19 999) inside [MIN, MAX] (display
// units), drawn from a hash of (i, pass, --seed).
//
// Output: one line
//   RESULT mode=M ok=N failed=F seconds=S rate=R cpu_us_per_call=C values=V
// (rate: OK calls/s, or durable values/s for stream; C: this process's CPU
// time during the measured seconds per OK call; V: values acknowledged
// created or revised, stream mode), the first errors on
// stderr. Exit 0 when ok > 0 and failed == 0, 1 otherwise, 2 on bad flags.
//
// Usage: write_load --mode=echo|batch|stream --target=HOST:PORT
//          [--connections=16] [--in_flight=32] [--seconds=10] [--warmup=0.5]
//          [--threads=0] [--method=M] [--body_bytes=64] [--token_file=F]
//          [--chunk=1000] [--areas=1000] [--area_prefix=610303001]
//          [--run_id=STR] [--max_chunks=N] [--key_offset=N] [--rate=R]
//          [--key_plan=FILE] [--seed=N]
// --max_chunks (stream mode): stop once N chunks in all were sent (and
// acknowledged), at the latest after --seconds: a load of a fixed size.
// --key_offset (batch, stream): start at key index N instead of 0, so that
// a second fixed-size load adds new keys after a first one's (stream mode:
// N = the first load's values).
// --rate (echo, batch): at most R calls/s in all (each of the --threads
// threads paces its own share, R / threads, by waiting before it issues a
// call); 0: as fast as the in-flight calls allow. A background load.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "halfsky/v1/submission.grpc.pb.h"

namespace {

namespace v1 = ::halfsky::v1;
using Clock = std::chrono::steady_clock;

constexpr int kIndicators = 40;
constexpr int kYears = 7;       // 2020..2026: never after the service's current year
constexpr int kBreakdowns = 9;  // sex (3) × residence (3)
constexpr char kBatchMethod[] = "/halfsky.v1.SubmissionService/SubmitBatch";

struct Flags {
  std::string mode;
  std::string target;
  int connections = 16;
  int in_flight = 32;
  double seconds = 10;
  double warmup = 0.5;
  int threads = 0;
  std::string method = "/bench.Echo/Echo";
  int body_bytes = 64;
  std::string token_file;
  int chunk = 1000;
  int areas = 1000;
  std::string area_prefix = "610303001";
  std::string run_id;
  // Stream mode: stop after this many chunks in all (0: run for --seconds).
  int64_t max_chunks = 0;
  // Batch, stream: the first key index.
  int64_t key_offset = 0;
  // Echo, batch: total calls/s (0: unpaced).
  double rate = 0;
  // Batch, stream: the key space of a province_gen.py key plan ("": the
  // bench fragment's), and the seed of its values.
  std::string key_plan;
  int64_t seed = 1;
};

// A --key_plan key space.
struct PlanSlot {
  std::string indicator_id;
  bool fraction = false;  // PROPORTION or RATE: numerator and denominator
  bool count = false;     // COUNT: a whole number
  double lo = 0, hi = 0, multiplier = 1;
  v1::Sex sex = v1::SEX_TOTAL;
  v1::Residence residence = v1::RESIDENCE_ALL;
};
struct KeyPlan {
  std::vector<PlanSlot> slots;
  int first_year = 0, years = 0;
  std::vector<std::string> areas;
};
KeyPlan g_plan;  // read once in main, before any thread starts

// Reads a province_gen.py key plan; false (with a message) when malformed.
bool ReadKeyPlan(const std::string& path, KeyPlan* plan) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "write_load: 无法读取键计划 / cannot read key plan " << path << "\n";
    return false;
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream ls(line);
    std::string what;
    ls >> what;
    if (what == "years") {
      int y1 = 0;
      ls >> plan->first_year >> y1;
      plan->years = y1 - plan->first_year + 1;
    } else if (what == "area") {
      std::string code;
      ls >> code;
      plan->areas.push_back(code);
    } else if (what == "indicator") {
      PlanSlot s;
      std::string kind;
      int sex = 0, res = 0;
      ls >> s.indicator_id >> kind >> sex >> res >> s.lo >> s.hi >> s.multiplier;
      s.fraction = kind == "PROPORTION" || kind == "RATE";
      s.count = kind == "COUNT";
      for (int a = 0; a < (sex ? 3 : 1); ++a) {
        for (int b = 0; b < (res ? 3 : 1); ++b) {
          s.sex = static_cast<v1::Sex>(1 + a);
          s.residence = static_cast<v1::Residence>(1 + b);
          plan->slots.push_back(s);
        }
      }
    } else {
      ls.setstate(std::ios::failbit);
    }
    if (ls.fail()) {
      std::cerr << "write_load: " << path << ":" << n << ": 无法解析 / cannot parse: " << line
                << "\n";
      return false;
    }
  }
  if (plan->slots.empty() || plan->years <= 0 || plan->areas.empty()) {
    std::cerr << "write_load: " << path << ": 键计划为空 / empty key plan\n";
    return false;
  }
  return true;
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  auto str = [](std::string* out) { return [out](const std::string& v) { *out = v; }; };
  auto num = [](int* out) { return [out](const std::string& v) { *out = std::stoi(v); }; };
  auto real = [](double* out) { return [out](const std::string& v) { *out = std::stod(v); }; };
  const std::map<std::string, std::function<void(const std::string&)>> setters = {
      {"mode", str(&f->mode)},
      {"target", str(&f->target)},
      {"connections", num(&f->connections)},
      {"in_flight", num(&f->in_flight)},
      {"seconds", real(&f->seconds)},
      {"warmup", real(&f->warmup)},
      {"threads", num(&f->threads)},
      {"method", str(&f->method)},
      {"body_bytes", num(&f->body_bytes)},
      {"token_file", str(&f->token_file)},
      {"chunk", num(&f->chunk)},
      {"areas", num(&f->areas)},
      {"area_prefix", str(&f->area_prefix)},
      {"run_id", str(&f->run_id)},
      {"max_chunks", [f](const std::string& v) { f->max_chunks = std::stoll(v); }},
      {"key_offset", [f](const std::string& v) { f->key_offset = std::stoll(v); }},
      {"rate", real(&f->rate)},
      {"key_plan", str(&f->key_plan)},
      {"seed", [f](const std::string& v) { f->seed = std::stoll(v); }},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) {
      return false;
    }
    const auto setter = setters.find(a.substr(2, eq - 2));
    if (setter == setters.end()) {
      return false;
    }
    try {
      setter->second(a.substr(eq + 1));
    } catch (const std::exception&) {
      return false;
    }
  }
  return (f->mode == "echo" || f->mode == "batch" || f->mode == "stream") && !f->target.empty() &&
         f->connections > 0 && f->in_flight > 0 && f->seconds > 0 && f->body_bytes >= 8 &&
         f->chunk > 0 && f->areas > 0 && f->areas <= 10000 && f->key_offset >= 0 && f->rate >= 0 &&
         (f->mode == "echo" || !f->token_file.empty());
}

// Key `i` of the bench key space: every i < KeySpace() names another key.
int64_t KeySpace(const Flags& f) {
  if (!f.key_plan.empty()) {
    return static_cast<int64_t>(g_plan.slots.size()) * g_plan.years *
           static_cast<int64_t>(g_plan.areas.size());
  }
  return static_cast<int64_t>(kIndicators) * kBreakdowns * kYears * f.areas;
}

// Fills `v` (reusing its strings' capacity) with key i % KeySpace() and a
// value that differs for different passes i / KeySpace().
// splitmix64: the key plan's value hash.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FillValue for a --key_plan key space.
void FillPlanValue(const Flags& f, int64_t k, int64_t pass, v1::DataValue* v) {
  const int64_t nslots = static_cast<int64_t>(g_plan.slots.size());
  const PlanSlot& s = g_plan.slots[k % nslots];
  v1::DataKey* key = v->mutable_key();
  key->set_indicator_id(s.indicator_id);
  key->set_sex(s.sex);
  key->set_residence(s.residence);
  key->set_year(g_plan.first_year + static_cast<int>((k / nslots) % g_plan.years));
  key->set_area_code(g_plan.areas[k / (nslots * g_plan.years)]);
  const uint64_t h = Mix(static_cast<uint64_t>(k) ^
                         Mix(static_cast<uint64_t>(pass) ^ (static_cast<uint64_t>(f.seed) << 32)));
  // A point in the middle 80 % of [lo, hi] (display units).
  const double u = 0.1 + 0.8 * static_cast<double>(h % 1000000) / 1e6;
  const double display = s.lo + u * (s.hi - s.lo);
  if (s.fraction) {
    const double den = 10000 + static_cast<double>((h >> 20) % 10000);
    v->mutable_fraction()->set_denominator(den);
    v->mutable_fraction()->set_numerator(std::floor(display / s.multiplier * den));
  } else if (s.count) {
    v->set_value(std::round(display));
  } else {
    v->set_value(std::round(display * 10) / 10);
  }
}

void FillValue(const Flags& f, int64_t i, v1::DataValue* v) {
  const int64_t space = KeySpace(f);
  const int64_t k = i % space;
  const int64_t pass = i / space;
  if (!f.key_plan.empty()) {
    FillPlanValue(f, k, pass, v);
    if (v->source().empty()) {
      v->set_source("基准测试 bench (province_gen.py)");
    }
    return;
  }
  char buf[32];
  v1::DataKey* key = v->mutable_key();
  std::snprintf(buf, sizeof buf, "HEALTH-B%02d", static_cast<int>(k % kIndicators) + 1);
  key->set_indicator_id(buf);
  const int b = static_cast<int>((k / kIndicators) % kBreakdowns);
  key->set_sex(static_cast<v1::Sex>(1 + b % 3));
  key->set_residence(static_cast<v1::Residence>(1 + b / 3));
  key->set_year(2020 + static_cast<int>((k / (kIndicators * kBreakdowns)) % kYears));
  std::snprintf(buf, sizeof buf, "%s%04d", f.area_prefix.c_str(),
                static_cast<int>(k / (kIndicators * kBreakdowns * kYears)));
  key->set_area_code(buf);
  v->set_value(static_cast<double>(1 + (k * 7 + pass * 13) % 100000) + 0.5 * (pass % 2));
  if (v->source().empty()) {
    v->set_source("基准测试 bench");
  }
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  // Distinct args and a local pool: every channel gets its own connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("halfsky.bench.channel", index);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

struct Counts {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> values{0};  // stream: durable values acknowledged
  std::mutex mu;
  int printed = 0;

  void Error(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (printed++ < 5) {
      std::cerr << "write_load: " << what << "\n";
    }
  }
};

// --- Unary modes (echo, batch): HTTP/2 through libnghttp2 -------------------

// The unary modes speak gRPC over HTTP/2 themselves, with libnghttp2 (the
// library h2load is built on) and one event loop per thread, so that a call
// costs the generator about what it costs h2load: gRPC's C++ client spent
// 2.5-4 times h2load's CPU per call, which on a slow 2-core machine left the
// server too little CPU to reach 0.9 of h2load's rate (docs/BENCHMARKS.md).
// A request is HEADERS (:method POST, :scheme http, :path, :authority,
// content-type application/grpc, te trailers [, authorization]) and one DATA
// frame holding the 5-byte gRPC prefix and the message; a call is OK when
// the stream closes without error, :status is 200 and grpc-status is 0.

struct H2Connection;

struct H2Call {
  H2Connection* conn = nullptr;  // the connection it is issued on
  std::string frame;             // gRPC prefix + message
  size_t frame_sent = 0;
  std::string response;  // DATA received (gRPC prefix + message)
  int http_status = 0;
  std::string grpc_status, grpc_message;
};

class UnaryWorker;

struct H2Connection {
  UnaryWorker* worker = nullptr;  // the session's callbacks' user data is this
  int fd = -1;
  nghttp2_session* session = nullptr;
  std::string out;  // bytes nghttp2 produced that the socket has not taken yet
  size_t out_off = 0;
  bool broken = false;
  std::vector<std::unique_ptr<H2Call>> calls;
  std::vector<H2Call*> idle;  // calls ready to be issued again
  int open_calls = 0;
};

// grpc-message is percent-encoded (gRPC's HTTP/2 mapping); decoded for the
// error lines, bytes that are not %XX kept as they are.
std::string PercentDecode(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// Connects to HOST:PORT (blocking), then makes the socket non-blocking with
// TCP_NODELAY, as h2load does; -1 with a message on failure.
int ConnectTcp(const std::string& target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "write_load: --target 须为 HOST:PORT / must be HOST:PORT: " << target << "\n";
    return -1;
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = target.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    std::cerr << "write_load: 无法解析地址 / cannot resolve " << target << "\n";
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    std::cerr << "write_load: 无法连接 / cannot connect to " << target << ": "
              << std::strerror(errno) << "\n";
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  return fd;
}

// One thread: its connections, `in_flight` calls on each, until `end`;
// counts completions that end before `end` (the calls that complete after it
// are drained, not counted). Not thread-safe: one thread runs it.
class UnaryWorker {
 public:
  UnaryWorker(const Flags& f, int thread_index, int connections, const std::string& token,
              Counts* counts)
      : f_(f), thread_index_(thread_index), counts_(counts) {
    if (!token.empty()) {
      auth_ = "Bearer " + token;
    }
    path_ = f.mode == "echo" ? f.method : kBatchMethod;
    body_.assign(static_cast<size_t>(f.body_bytes), '\0');
    prefix_ = "wl-" + f.run_id + "-" + std::to_string(thread_index) + "-";
    conns_.resize(static_cast<size_t>(connections));
    nghttp2_session_callbacks_new(&callbacks_);
    nghttp2_session_callbacks_set_on_header_callback(callbacks_, &UnaryWorker::OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks_, &UnaryWorker::OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks_, &UnaryWorker::OnClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks_, &UnaryWorker::OnFrame);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks_, &UnaryWorker::OnNotSent);
  }
  ~UnaryWorker() {
    for (H2Connection& c : conns_) {
      if (c.session != nullptr) {
        nghttp2_session_del(c.session);
      }
      if (c.fd >= 0) {
        close(c.fd);
      }
    }
    nghttp2_session_callbacks_del(callbacks_);
  }

  // Opens the connections (and sends each the client preface and SETTINGS);
  // false with a message when one cannot be opened.
  bool Connect() {
    for (H2Connection& c : conns_) {
      c.fd = ConnectTcp(f_.target);
      if (c.fd < 0) {
        return false;
      }
      c.worker = this;
      nghttp2_session_client_new(&c.session, callbacks_, &c);
      // h2load's defaults (-w 30 -W 30): windows that never hold a call back.
      const nghttp2_settings_entry settings[] = {
          {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
          {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1U << 30) - 1},
      };
      nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, 2);
      nghttp2_session_set_local_window_size(c.session, NGHTTP2_FLAG_NONE, 0, (1 << 30) - 1);
      for (int i = 0; i < f_.in_flight; ++i) {
        c.calls.push_back(std::make_unique<H2Call>());
        c.calls.back()->conn = &c;
        c.idle.push_back(c.calls.back().get());
      }
    }
    return true;
  }

  void Run(Clock::time_point start, Clock::time_point end) {
    start_ = start;
    end_ = end;
    std::vector<pollfd> fds(conns_.size());
    // After `end`, calls still open are drained for at most this long.
    const Clock::time_point give_up = end + std::chrono::seconds(10);
    size_t first = 0;  // --rate: the connection offered the next slot first
    for (;;) {
      Clock::time_point now = Clock::now();
      int open = 0;
      first = (first + 1) % conns_.size();
      for (size_t k = 0; k < conns_.size(); ++k) {
        H2Connection& c = conns_[(first + k) % conns_.size()];
        if (!c.broken && now < end_) {
          IssueIdle(&c, now);
        }
        if (!c.broken) {
          Flush(&c);
        }
        if (!c.broken) {
          open += c.open_calls;
        }
      }
      if ((now >= end_ && open == 0) || now >= give_up) {
        break;
      }
      for (size_t i = 0; i < conns_.size(); ++i) {
        const H2Connection& c = conns_[i];
        fds[i].fd = c.broken ? -1 : c.fd;
        fds[i].events = static_cast<short>(POLLIN | (c.out_off < c.out.size() ? POLLOUT : 0));
        fds[i].revents = 0;
      }
      // Wake for the next paced call (--rate) or the end of the run.
      Clock::time_point wake = now < end_ ? end_ : give_up;
      if (f_.rate > 0 && waiting_ > 0 && next_slot_ < wake) {
        wake = std::max(now, next_slot_);
      }
      const int timeout_ms = static_cast<int>(std::min<int64_t>(
          100, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1));
      if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
        Fail(nullptr, std::string("poll: ") + std::strerror(errno));
        break;
      }
      for (size_t i = 0; i < conns_.size(); ++i) {
        if (fds[i].revents != 0) {
          Read(&conns_[i]);
        }
      }
    }
  }

 private:
  static H2Connection* Conn(void* user_data) { return static_cast<H2Connection*>(user_data); }

  // A GOAWAY ends the connection's part of the run: its calls that were not
  // started are lost, so it counts as failed (the harness's servers never
  // send one while the load runs).
  static int OnFrame(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      H2Connection* c = Conn(user_data);
      c->worker->Fail(
          c, "GOAWAY from the server, error code " + std::to_string(frame->goaway.error_code));
    }
    return 0;
  }

  // A request whose HEADERS could not be sent gets no stream and no close
  // callback: the call is lost, and so is the connection.
  static int OnNotSent(nghttp2_session* /*session*/, const nghttp2_frame* frame, int lib_error_code,
                       void* user_data) {
    if (frame->hd.type == NGHTTP2_HEADERS) {
      H2Connection* c = Conn(user_data);
      c->worker->Fail(c, std::string("request not sent: ") + nghttp2_strerror(lib_error_code));
    }
    return 0;
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t /*flags*/,
                      void* /*user_data*/) {
    auto* call =
        static_cast<H2Call*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (call == nullptr) {
      return 0;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      call->http_status = std::atoi(std::string(v).c_str());
    } else if (n == "grpc-status") {
      call->grpc_status.assign(v);
    } else if (n == "grpc-message") {
      call->grpc_message.assign(v);
    }
    return 0;
  }

  static int OnData(nghttp2_session* session, uint8_t /*flags*/, int32_t stream_id,
                    const uint8_t* data, size_t len, void* /*user_data*/) {
    auto* call = static_cast<H2Call*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (call != nullptr) {
      call->response.append(reinterpret_cast<const char*>(data), len);
    }
    return 0;
  }

  static int OnClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                     void* user_data) {
    auto* call = static_cast<H2Call*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (call != nullptr) {
      Conn(user_data)->worker->Finish(call, error_code);
    }
    return 0;
  }

  void Finish(H2Call* call, uint32_t error_code) {
    call->conn->open_calls--;
    const Clock::time_point now = Clock::now();
    if (now >= start_ && now < end_) {
      Count(call, error_code);
    }
    call->conn->idle.push_back(call);
  }

  void Count(const H2Call* call, uint32_t error_code) {
    if (error_code != NGHTTP2_NO_ERROR || call->http_status != 200 || call->grpc_status != "0") {
      Fail(nullptr, path_ + ": HTTP/2 error " + std::to_string(error_code) + ", :status " +
                        std::to_string(call->http_status) + ", grpc-status " +
                        (call->grpc_status.empty() ? "(none)" : call->grpc_status) + " " +
                        PercentDecode(call->grpc_message));
      return;
    }
    if (f_.mode == "batch") {
      // One uncompressed gRPC message: flag 0, 4-byte big-endian length.
      const std::string& r = call->response;
      const uint32_t len = r.size() < 5 ? 0
                                        : (static_cast<uint32_t>(static_cast<uint8_t>(r[1])) << 24 |
                                           static_cast<uint32_t>(static_cast<uint8_t>(r[2])) << 16 |
                                           static_cast<uint32_t>(static_cast<uint8_t>(r[3])) << 8 |
                                           static_cast<uint32_t>(static_cast<uint8_t>(r[4])));
      if (r.size() < 5 || r[0] != 0 || len != r.size() - 5 ||
          !reply_.ParseFromArray(r.data() + 5, static_cast<int>(len)) ||
          reply_.created_count() + reply_.revised_count() != 1) {
        Fail(nullptr,
             "SubmitBatch: reply without one created/revised value: " + reply_.ShortDebugString());
        return;
      }
    }
    counts_->ok++;
  }

  void Fail(H2Connection* c, const std::string& what) {
    counts_->failed++;
    counts_->Error(what);
    if (c != nullptr && !c->broken) {
      c->broken = true;
      c->open_calls = 0;
    }
  }

  // Issues the connection's idle calls (with --rate, only those whose slot
  // has come; the others wait).
  void IssueIdle(H2Connection* c, Clock::time_point now) {
    while (!c->broken && !c->idle.empty()) {
      if (f_.rate > 0) {
        // This thread's share of --rate: one call per `interval`; after a
        // stall of over 100 ms it does not burst to catch up.
        const auto interval = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(f_.threads / f_.rate));
        if (next_slot_ == Clock::time_point() ||
            next_slot_ < now - std::chrono::milliseconds(100)) {
          next_slot_ = now;
        }
        if (next_slot_ > now) {
          waiting_ = 1;
          return;
        }
        next_slot_ += interval;
        waiting_ = 0;
      }
      H2Call* call = c->idle.back();
      c->idle.pop_back();
      Issue(c, call);
    }
  }

  // Starts `call` on `c` with a fresh body.
  void Issue(H2Connection* c, H2Call* call) {
    const int64_t n = next_++;
    if (f_.mode == "echo") {
      std::memcpy(&body_[0], &n, sizeof n);  // a fresh body per call
    } else {
      // Spread the threads over the key space; each call a new key or value.
      const int64_t i = f_.key_offset + n * std::max(1, f_.threads) + thread_index_;
      request_.set_request_id(prefix_ + std::to_string(n));
      if (request_.data_values_size() == 0) {
        request_.add_data_values();
      }
      FillValue(f_, i, request_.mutable_data_values(0));
      request_.SerializeToString(&body_);
    }
    const uint32_t len = static_cast<uint32_t>(body_.size());
    call->frame.resize(5);
    call->frame[0] = 0;
    call->frame[1] = static_cast<char>(len >> 24);
    call->frame[2] = static_cast<char>(len >> 16);
    call->frame[3] = static_cast<char>(len >> 8);
    call->frame[4] = static_cast<char>(len);
    call->frame += body_;
    call->frame_sent = 0;
    call->response.clear();
    call->http_status = 0;
    call->grpc_status.clear();
    call->grpc_message.clear();
    auto nv = [](const char* name, const std::string& value) {
      return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                        reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                        std::strlen(name), value.size(),
                        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
    };
    static const std::string kPost = "POST", kHttp = "http", kGrpc = "application/grpc",
                             kTrailers = "trailers";
    nghttp2_nv headers[] = {
        nv(":method", kPost),        nv(":scheme", kHttp),      nv(":path", path_),
        nv(":authority", f_.target), nv("content-type", kGrpc), nv("te", kTrailers),
        nv("authorization", auth_),
    };
    nghttp2_data_provider body;
    body.source.ptr = call;
    body.read_callback = &UnaryWorker::ReadBody;
    const int32_t id =
        nghttp2_submit_request(c->session, nullptr, headers, auth_.empty() ? 6 : 7, &body, call);
    if (id < 0) {
      Fail(c, std::string("nghttp2_submit_request: ") + nghttp2_strerror(id));
      return;
    }
    c->open_calls++;
  }

  static ssize_t ReadBody(nghttp2_session* /*session*/, int32_t /*stream_id*/, uint8_t* buf,
                          size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                          void* /*user_data*/) {
    auto* call = static_cast<H2Call*>(source->ptr);
    const size_t n = std::min(length, call->frame.size() - call->frame_sent);
    std::memcpy(buf, call->frame.data() + call->frame_sent, n);
    call->frame_sent += n;
    if (call->frame_sent == call->frame.size()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
  }

  // Moves what the session has to send into the socket, as far as it takes.
  void Flush(H2Connection* c) {
    for (;;) {
      if (c->out_off == c->out.size()) {
        c->out.clear();
        c->out_off = 0;
        const uint8_t* data = nullptr;
        ssize_t n = 0;
        // Gather up to 64 KiB into one write, as h2load does.
        while (c->out.size() < 65536 && (n = nghttp2_session_mem_send(c->session, &data)) > 0) {
          c->out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
        }
        if (n < 0) {
          Fail(c, std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
          return;
        }
        if (c->out.empty()) {
          CheckAlive(c);
          return;
        }
      }
      const ssize_t w =
          send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          Fail(c, std::string("send: ") + std::strerror(errno));
        }
        return;
      }
      c->out_off += static_cast<size_t>(w);
    }
  }

  void Read(H2Connection* c) {
    if (c->broken) {
      return;
    }
    uint8_t buf[65536];
    const ssize_t r = recv(c->fd, buf, sizeof buf, 0);
    if (r == 0) {
      Fail(c, "connection closed by the server");
      return;
    }
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        Fail(c, std::string("recv: ") + std::strerror(errno));
      }
      return;
    }
    const ssize_t used = nghttp2_session_mem_recv(c->session, buf, static_cast<size_t>(r));
    if (used < 0) {
      Fail(c, std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(used)));
    }
  }

  // A session that wants neither to read nor to write has ended (a GOAWAY,
  // a protocol error nghttp2 answered itself): its open calls never close.
  void CheckAlive(H2Connection* c) {
    if (!c->broken && nghttp2_session_want_read(c->session) == 0 &&
        nghttp2_session_want_write(c->session) == 0) {
      Fail(c, "HTTP/2 session ended");
    }
  }

  const Flags& f_;
  const int thread_index_;
  Counts* counts_;
  nghttp2_session_callbacks* callbacks_ = nullptr;
  std::vector<H2Connection> conns_;  // never resized after the constructor
  std::string auth_, path_, body_, prefix_;
  v1::SubmitBatchRequest request_;
  v1::SubmitBatchResponse reply_;
  int64_t next_ = 0;
  Clock::time_point start_, end_;
  Clock::time_point next_slot_;  // --rate: when the next call may be issued
  int waiting_ = 0;              // --rate: 1 while an idle call waits for its slot
};

// --- Stream mode -------------------------------------------------------------

// One stream on `channel`: writes chunks (keys stream_index, stream_index +
// streams, ... in chunk-sized runs) keeping `in_flight` unacknowledged.
void RunStream(const Flags& f, int stream_index, const std::shared_ptr<grpc::Channel>& channel,
               const std::string& token, Clock::time_point start, Clock::time_point end,
               Counts* counts) {
  auto stub = v1::SubmissionService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  auto stream = stub->SubmitStream(&ctx);
  v1::SubmitStreamRequest req;
  for (int k = 0; k < f.chunk; ++k) {
    req.add_data_values();
  }
  v1::SubmitStreamResponse ack;
  const std::string prefix = "ws-" + f.run_id + "-" + std::to_string(stream_index) + "-";
  int outstanding = 0;
  int64_t sent = 0;
  bool broken = false;
  auto take = [&] {
    --outstanding;
    const Clock::time_point now = Clock::now();
    if (now >= start && now < end) {
      counts->values += ack.created_count() + ack.revised_count();
      counts->ok++;
      if (ack.unchanged_count() != 0) {
        counts->failed++;
        counts->Error("SubmitStream: unchanged values in an ack: " + ack.ShortDebugString());
      }
    }
  };
  // With --max_chunks, this stream's share of them (the first streams take
  // the remainder).
  const int64_t my_chunks = f.max_chunks <= 0 ? -1
                                              : f.max_chunks / f.connections +
                                                    (stream_index < f.max_chunks % f.connections);
  while (Clock::now() < end && (my_chunks < 0 || sent < my_chunks)) {
    // Chunk c of this stream: keys (c * streams + stream_index) * chunk + k.
    const int64_t base =
        f.key_offset + (sent * f.connections + stream_index) * static_cast<int64_t>(f.chunk);
    for (int k = 0; k < f.chunk; ++k) {
      FillValue(f, base + k, req.mutable_data_values(k));
    }
    req.set_request_id(prefix + std::to_string(sent));
    ++sent;
    if (!stream->Write(req)) {
      broken = true;
      break;
    }
    if (++outstanding < f.in_flight) {
      continue;
    }
    if (!stream->Read(&ack)) {
      broken = true;
      break;
    }
    take();
  }
  while (!broken && outstanding > 0 && stream->Read(&ack)) {
    take();
  }
  stream->WritesDone();
  const grpc::Status st = stream->Finish();
  if (!st.ok() || broken) {
    counts->failed++;
    counts->Error("SubmitStream " + std::to_string(stream_index) + ": " +
                  std::to_string(st.error_code()) + " " + st.error_message());
  }
}

// This process's CPU time (user + system), seconds.
double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string t = s.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) {
    t.pop_back();
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    std::fprintf(stderr,
                 "用法 usage: %s --mode=echo|batch|stream --target=HOST:PORT [--connections=16] "
                 "[--in_flight=32] [--seconds=10] [--warmup=0.5] [--threads=0] [--method=M] "
                 "[--body_bytes=64] [--token_file=F (batch, stream)] [--chunk=1000] "
                 "[--areas=1000] [--area_prefix=P] [--run_id=S] [--max_chunks=N] "
                 "[--key_offset=N] [--rate=R] [--key_plan=FILE] [--seed=N]\n",
                 argv[0]);
    return 2;
  }
  if (!f.key_plan.empty() && !ReadKeyPlan(f.key_plan, &g_plan)) {
    return 2;
  }
  // Debian's Abseil checks every gRPC mutex for deadlock cycles (a few per
  // cent of the client's CPU); a load generator does not need that.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (f.threads <= 0) {
    f.threads = 1;  // as run.sh's h2load -t 1
  }
  f.threads = std::min(f.threads, f.connections);
  if (f.run_id.empty()) {
    f.run_id = std::to_string(getpid()) + "." + std::to_string(time(nullptr));
  }
  std::string token;
  if (!f.token_file.empty()) {
    token = ReadToken(f.token_file);
    if (token.empty()) {
      std::cerr << "write_load: 无法读取令牌 / cannot read a token from " << f.token_file << "\n";
      return 2;
    }
  }

  Counts counts;
  // Stream mode: gRPC's own client, one channel (and connection) per stream.
  // Unary modes: f.threads workers, connection c on worker c % f.threads.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<UnaryWorker>> workers;
  bool connected = true;
  if (f.mode == "stream") {
    for (int c = 0; c < f.connections; ++c) {
      channels.push_back(MakeChannel(f.target, c));
    }
    const auto connect_deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
    for (auto& ch : channels) {
      if (!ch->WaitForConnected(connect_deadline)) {
        std::cerr << "write_load: 无法连接 / cannot connect to " << f.target << "\n";
        connected = false;
        break;
      }
    }
  } else {
    for (int t = 0; t < f.threads && connected; ++t) {
      const int mine = f.connections / f.threads + (t < f.connections % f.threads);
      workers.push_back(std::make_unique<UnaryWorker>(f, t, mine, token, &counts));
      connected = workers.back()->Connect();
    }
  }
  if (!connected) {
    std::printf("RESULT mode=%s ok=0 failed=%d seconds=0 rate=0\n", f.mode.c_str(), f.connections);
    return 1;
  }

  const Clock::time_point start =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(f.warmup * 1e6));
  const Clock::time_point end =
      start + std::chrono::microseconds(static_cast<int64_t>(f.seconds * 1e6));
  std::vector<std::thread> threads;
  if (f.mode == "stream") {
    for (int s = 0; s < f.connections; ++s) {
      threads.emplace_back(RunStream, std::cref(f), s, channels[s], std::cref(token), start, end,
                           &counts);
    }
  } else {
    for (auto& w : workers) {
      threads.emplace_back([&w, start, end] { w->Run(start, end); });
    }
  }
  // CPU spent while the calls counted were made (the generator's own cost).
  std::this_thread::sleep_until(start);
  const double cpu_start = CpuSeconds();
  if (f.mode != "stream" || f.max_chunks <= 0) {
    std::this_thread::sleep_until(end);
  }
  for (auto& t : threads) {
    t.join();
  }
  const double cpu = CpuSeconds() - cpu_start;
  const double rate =
      f.mode == "stream" ? counts.values.load() / f.seconds : counts.ok.load() / f.seconds;
  const int64_t ok = counts.ok.load();
  std::printf(
      "RESULT mode=%s ok=%lld failed=%lld seconds=%.3f rate=%.1f cpu_us_per_call=%.2f "
      "values=%lld\n",
      f.mode.c_str(), static_cast<long long>(ok), static_cast<long long>(counts.failed.load()),
      f.seconds, rate, ok > 0 ? cpu * 1e6 / ok : 0.0, static_cast<long long>(counts.values.load()));
  return counts.ok.load() > 0 && counts.failed.load() == 0 ? 0 : 1;
}
