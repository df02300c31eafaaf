#include "tests/support/redis_sentinel.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace halfsky::testing {
namespace {

std::string RedisBinary() {
  const char* bin = std::getenv("HALFSKY_REDIS_SERVER");
  return bin != nullptr && *bin != '\0' ? bin : "redis-server";
}

// INFO's "key:value" lines.
std::map<std::string, std::string> ParseInfo(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == absl::string_view::npos) {
      continue;
    }
    out[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  return out;
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    if (fd >= 0) {
      close(fd);
    }
    return absl::InternalError("cannot write " + path);
  }
  close(fd);
  return absl::OkStatus();
}

HiredisOptions Loopback(int port) {
  HiredisOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.connect_timeout = absl::Milliseconds(300);
  o.command_timeout = absl::Seconds(2);
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisSentinelBed>> RedisSentinelBed::Start(Options options) {
  std::unique_ptr<RedisSentinelBed> bed(new RedisSentinelBed());
  bed->options_ = std::move(options);
  auto primary = RedisServer::StartWithArgs(bed->options_.server_args);
  if (!primary.ok()) {
    return primary.status();
  }
  bed->servers_.push_back(std::move(*primary));
  const int primary_port = bed->servers_[0]->port();
  for (int i = 0; i < bed->options_.replicas; ++i) {
    std::vector<std::string> args = bed->options_.server_args;
    args.insert(args.end(), {"--replicaof", "127.0.0.1", absl::StrCat(primary_port)});
    auto replica = RedisServer::StartWithArgs(args);
    if (!replica.ok()) {
      return replica.status();
    }
    bed->servers_.push_back(std::move(*replica));
  }
  if (absl::Status s = bed->WaitForReplicasInSync(primary_port, absl::Seconds(30)); !s.ok()) {
    return s;
  }
  for (int i = 0; i < bed->options_.sentinels; ++i) {
    if (absl::Status s = bed->StartSentinel(i); !s.ok()) {
      return s;
    }
  }
  // Every sentinel knows the replicas and the other sentinels (hello
  // messages every 2 s), so that a failover needs no discovery.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (int port : bed->sentinel_ports_) {
    if (!bed->options_.wait_for_discovery) {
      break;
    }
    HiredisOptions o = Loopback(port);
    o.password = bed->options_.sentinel_password;
    HiredisClient sentinel(o);
    while (true) {
      auto reply = sentinel.Command({"SENTINEL", "master", bed->options_.master_name});
      std::map<std::string, std::string> fields;
      if (reply.ok() && reply->is_array()) {
        for (size_t k = 0; k + 1 < reply->elements().size(); k += 2) {
          fields[reply->elements()[k].str()] = reply->elements()[k + 1].str();
        }
      }
      if (fields["num-slaves"] == absl::StrCat(bed->options_.replicas) &&
          fields["num-other-sentinels"] == absl::StrCat(bed->options_.sentinels - 1)) {
        break;
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("sentinel ", port, " did not discover the replicas and sentinels: ",
                         reply.ok() ? reply->DebugString() : reply.status().ToString()));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  return bed;
}

absl::Status RedisSentinelBed::StartSentinel(int index) {
  const std::string dir = MakeTempDir("halfsky-sentinel");
  const std::string conf = dir + "/sentinel.conf";
  const std::string& name = options_.master_name;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreePort();
    std::vector<std::string> lines = {
        absl::StrCat("port ", port),
        "bind 127.0.0.1",
        "daemonize no",
        absl::StrCat("dir ", dir),
        absl::StrCat("sentinel monitor ", name, " 127.0.0.1 ", servers_[0]->port(), " ",
                     options_.quorum),
        absl::StrCat("sentinel down-after-milliseconds ", name, " ", options_.down_after_ms),
        absl::StrCat("sentinel failover-timeout ", name, " ", options_.failover_timeout_ms),
        absl::StrCat("sentinel parallel-syncs ", name, " 1"),
    };
    if (!options_.sentinel_password.empty()) {
      lines.push_back("requirepass " + options_.sentinel_password);
      lines.push_back("sentinel sentinel-pass " + options_.sentinel_password);
    }
    if (absl::Status s = WriteFile(conf, absl::StrJoin(lines, "\n") + "\n"); !s.ok()) {
      return s;
    }
    auto child = ChildProcess::Start({RedisBinary(), conf, "--sentinel"}, dir + "/sentinel.log");
    if (!child.ok()) {
      return child.status();
    }
    if (WaitForPort(port, absl::Seconds(10))) {
      if (static_cast<int>(sentinels_.size()) <= index) {
        sentinels_.resize(index + 1);
        sentinel_ports_.resize(index + 1);
      }
      sentinels_[index] = std::move(*child);
      sentinel_ports_[index] = port;
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError("could not start a sentinel");
}

RedisSentinelBed::~RedisSentinelBed() {
  sentinels_.clear();
  servers_.clear();
}

std::string RedisSentinelBed::address() const {
  std::vector<std::string> parts;
  for (int port : sentinel_ports_) {
    parts.push_back(absl::StrCat("127.0.0.1:", port));
  }
  return absl::StrCat("sentinel://", absl::StrJoin(parts, ","), "/", options_.master_name);
}

HiredisOptions RedisSentinelBed::ClientOptions() const {
  HiredisOptions o = *ParseRedisAddress(address(), Loopback(1));
  o.sentinel_password = options_.sentinel_password;
  return o;
}

int RedisSentinelBed::IndexOfPort(int port) const {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i]->port() == port) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

absl::StatusOr<int> RedisSentinelBed::PrimaryPort() const {
  absl::Status last = absl::UnavailableError("no sentinel");
  for (size_t i = 0; i < sentinel_ports_.size(); ++i) {
    if (sentinels_[i] == nullptr) {
      continue;
    }
    HiredisOptions o = Loopback(sentinel_ports_[i]);
    o.password = options_.sentinel_password;
    HiredisClient sentinel(o);
    auto reply = sentinel.Command({"SENTINEL", "get-master-addr-by-name", options_.master_name});
    int port = 0;
    if (reply.ok() && reply->is_array() && reply->elements().size() == 2 &&
        absl::SimpleAtoi(reply->elements()[1].str(), &port)) {
      return port;
    }
    last = reply.ok() ? absl::UnavailableError(reply->DebugString()) : reply.status();
  }
  return last;
}

absl::StatusOr<int> RedisSentinelBed::WaitForNewPrimary(int old_port,
                                                        absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    bool all = true;
    int seen = -1;
    for (size_t i = 0; i < sentinel_ports_.size() && all; ++i) {
      if (sentinels_[i] == nullptr) {
        continue;
      }
      HiredisOptions o = Loopback(sentinel_ports_[i]);
      o.password = options_.sentinel_password;
      HiredisClient sentinel(o);
      auto reply = sentinel.Command({"SENTINEL", "get-master-addr-by-name", options_.master_name});
      int port = 0;
      all = reply.ok() && reply->is_array() && reply->elements().size() == 2 &&
            absl::SimpleAtoi(reply->elements()[1].str(), &port) && port != old_port &&
            (seen == -1 || seen == port);
      seen = port;
    }
    if (all && seen > 0) {
      HiredisClient direct(Loopback(seen));
      auto role = direct.Command({"ROLE"});
      if (role.ok() && role->is_array() && !role->elements().empty() &&
          role->elements()[0].str() == "master") {
        return seen;
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the sentinels did not promote a new primary within ", absl::FormatDuration(timeout)));
}

std::unique_ptr<HiredisClient> RedisSentinelBed::Direct(int i) const {
  return std::make_unique<HiredisClient>(Loopback(servers_.at(i)->port()));
}

absl::Status RedisSentinelBed::WaitForReplicasInSync(int primary_port,
                                                     absl::Duration timeout) const {
  HiredisClient primary(Loopback(primary_port));
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    auto info = primary.Command({"INFO", "replication"});
    if (info.ok()) {
      last = info->str();
      std::map<std::string, std::string> fields = ParseInfo(last);
      int connected = 0;
      (void)absl::SimpleAtoi(fields["connected_slaves"], &connected);
      bool in_sync = connected > 0;
      for (int k = 0; k < connected && in_sync; ++k) {
        const std::string& slave = fields[absl::StrCat("slave", k)];
        in_sync = slave.find("state=online") != std::string::npos &&
                  slave.find(absl::StrCat("offset=", fields["master_repl_offset"], ",")) !=
                      std::string::npos;
      }
      if (in_sync) {
        return absl::OkStatus();
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("replicas not in sync: " + last);
}

}  // namespace halfsky::testing
