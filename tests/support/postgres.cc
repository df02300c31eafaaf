#include "tests/support/postgres.h"

#include <glob.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace halfsky::testing {

namespace {

std::string FindBindir() {
  if (const char* env = std::getenv("HALFSKY_PG_BINDIR"); env != nullptr && env[0] != '\0') {
    return env;
  }
  glob_t g;
  std::string best;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0) {
    std::vector<std::string> found(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    // Newest major version (numeric order).
    std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
      return std::atoi(a.c_str() + 20) < std::atoi(b.c_str() + 20);
    });
    best = std::filesystem::path(found.back()).parent_path().string();
  }
  globfree(&g);
  return best;
}

// Runs argv to completion with output to `log`; OK when it exits 0.
absl::Status RunToEnd(const std::vector<std::string>& argv, const std::string& log,
                      absl::Duration timeout) {
  auto child = ChildProcess::Start(argv, log);
  if (!child.ok()) return child.status();
  absl::StatusOr<int> st = (*child)->Wait(timeout);
  if (!st.ok()) return st.status();
  if (!WIFEXITED(*st) || WEXITSTATUS(*st) != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), " failed: ", ReadFile(log)));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> PostgresServer::AsOwner(std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                  "--clear-groups"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(const StartOptions& options) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->options_ = options;
  s->bindir_ = FindBindir();
  if (s->bindir_.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL not found: install Debian's postgresql (deploy/local/deps.sh) or set "
        "HALFSKY_PG_BINDIR");
  }
  // As root the server runs as nobody, which must reach its directory:
  // /tmp rather than $TMPDIR (which may sit under a private tree).
  if (geteuid() == 0) {
    char templ[] = "/tmp/halfsky-pg-XXXXXX";
    const char* d = mkdtemp(templ);
    if (d == nullptr) return absl::InternalError("mkdtemp failed");
    s->dir_ = d;
    if (chown(d, 65534, 65534) != 0) {
      return absl::InternalError(absl::StrCat("chown nobody ", d, " failed"));
    }
  } else {
    s->dir_ = MakeTempDir("halfsky-pg");
  }
  std::vector<std::string> initdb = {
      s->bindir_ + "/initdb", "-D",       s->dir_ + "/data", "-U", "halfsky", "-E", "UTF8",
      "--locale=C.UTF-8",     "--no-sync"};
  if (options.password.empty()) {
    initdb.push_back("--auth=trust");
  } else {
    const std::string pwfile = s->dir_ + "/pw";
    { std::ofstream(pwfile) << options.password << "\n"; }
    chmod(pwfile.c_str(), 0644);
    initdb.push_back("--auth-local=trust");
    initdb.push_back("--auth-host=scram-sha-256");
    initdb.push_back("--pwfile=" + pwfile);
  }
  absl::Status st = RunToEnd(s->AsOwner(initdb), s->dir_ + "/initdb.log", absl::Seconds(120));
  if (!st.ok()) return st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = FreePort();
    st = s->Launch();
    if (st.ok()) return s;
  }
  return st;
}

absl::Status PostgresServer::Launch() {
  std::vector<std::string> argv = {bindir_ + "/postgres",
                                   "-D",
                                   dir_ + "/data",
                                   "-p",
                                   std::to_string(port_),
                                   "-k",
                                   dir_,
                                   "-c",
                                   "listen_addresses=127.0.0.1",
                                   "-c",
                                   absl::StrCat("max_connections=", options_.max_connections),
                                   "-c",
                                   options_.fsync ? "fsync=on" : "fsync=off"};
  auto child = ChildProcess::Start(AsOwner(argv), dir_ + "/server.log");
  if (!child.ok()) return child.status();
  process_ = std::move(*child);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (!process_->Running()) {
      return absl::UnavailableError(
          absl::StrCat("postgres exited: ", ReadFile(dir_ + "/server.log")));
    }
    const std::string ready = bindir_ + "/pg_isready";
    if (RunToEnd({ready, "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "halfsky"},
                 dir_ + "/isready.log", absl::Seconds(10))
            .ok()) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError("postgres did not become ready");
}

PostgresServer::~PostgresServer() {
  if (process_ != nullptr && process_->Running()) {
    process_->Signal(SIGQUIT);  // immediate shutdown
    if (!process_->Wait(absl::Seconds(20)).ok()) {
      process_->Signal(SIGKILL);
      process_->Wait(absl::Seconds(5)).IgnoreError();
    }
  }
  process_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PostgresServer::Uri(const std::string& db) const {
  return absl::StrCat("postgresql://halfsky@127.0.0.1:", port_, "/", db);
}

absl::StatusOr<std::string> PostgresServer::Psql(const std::string& db, const std::string& sql) {
  const std::string log = absl::StrCat(dir_, "/psql-", getpid(), ".log");
  std::error_code ec;
  std::filesystem::remove(log, ec);
  // Over the Unix socket (trust), so a password server needs none here.
  absl::Status st =
      RunToEnd({bindir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_,
                "-p", std::to_string(port_), "-U", "halfsky", "-d", db, "-c", sql},
               log, absl::Seconds(60));
  if (!st.ok()) return st;
  return ReadFile(log);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(const std::string& name) {
  absl::StatusOr<std::string> out =
      Psql("postgres", absl::StrCat("CREATE DATABASE \"", name, "\""));
  if (!out.ok()) return out.status();
  return Uri(name);
}

void PostgresServer::Kill() {
  if (process_ != nullptr) {
    process_->Signal(SIGKILL);
    process_->Wait(absl::Seconds(10)).IgnoreError();
    process_.reset();
  }
  // Orphaned backends exit once they notice the postmaster is gone; a
  // restart waits for the shared memory to be released.
}

absl::Status PostgresServer::Restart() {
  Kill();
  absl::Status st;
  for (int attempt = 0; attempt < 50; ++attempt) {
    st = Launch();
    if (st.ok()) return st;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return st;
}

absl::StatusOr<PostgresServer*> PostgresServer::Shared() {
  static absl::StatusOr<std::unique_ptr<PostgresServer>>* server = [] {
    StartOptions o;
    o.fsync = false;
    auto* s = new absl::StatusOr<std::unique_ptr<PostgresServer>>(Start(o));
    std::atexit([] {
      // Stops the server and removes its directory.
      if (server != nullptr && server->ok()) server->value().reset();
    });
    return s;
  }();
  if (!server->ok()) return server->status();
  return server->value().get();
}

}  // namespace halfsky::testing
