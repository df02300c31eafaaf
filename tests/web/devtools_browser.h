#ifndef HALFSKY_TESTS_WEB_DEVTOOLS_BROWSER_H_
#define HALFSKY_TESTS_WEB_DEVTOOLS_BROWSER_H_

// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, events and answers on fd 4,
// NUL-separated JSON), for what --dump-dom cannot do: navigating one
// signed-in page after another, changing the viewport, injecting a script,
// timing a page, taking a screenshot. Messages are parsed as
// google.protobuf.Struct. Header-only (the tests of tests/web include it);
// not thread-safe: one test thread drives one browser.

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/process.h"

namespace halfsky::testing {

class DevToolsBrowser {
 public:
  DevToolsBrowser() = default;
  DevToolsBrowser(const DevToolsBrowser&) = delete;
  DevToolsBrowser& operator=(const DevToolsBrowser&) = delete;
  // Kills the browser (SIGKILL) and reaps it.
  ~DevToolsBrowser() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (to_ >= 0) close(to_);
    if (from_ >= 0) close(from_);
  }

  // Starts Chromium (a fresh profile, window `width`×`height`) on `url` and
  // attaches to its page (Runtime and Page domains enabled). False on failure.
  bool Start(const std::string& chromium, const std::string& url, int width = 390,
             int height = 844) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
      return false;
    }
    const std::string profile = MakeTempDir("chromium-cdp");
    const std::string window = absl::StrCat("--window-size=", width, ",", height);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 3);
      dup2(out[1], 4);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      const std::string data_dir = "--user-data-dir=" + profile + "/profile";
      execl(chromium.c_str(), chromium.c_str(), "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-extensions",
            "--hide-scrollbars", window.c_str(), "--remote-debugging-pipe", data_dir.c_str(),
            url.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    // The page target, attached with a flat session.
    for (int attempt = 0; attempt < 50 && session_.empty(); ++attempt) {
      google::protobuf::Struct targets;
      if (!Call("Target.getTargets", "{}", "", &targets)) {
        return false;
      }
      for (const auto& t : targets.fields().at("targetInfos").list_value().values()) {
        const auto& f = t.struct_value().fields();
        if (f.at("type").string_value() == "page") {
          google::protobuf::Struct attached;
          if (!Call("Target.attachToTarget",
                    absl::StrCat(R"({"targetId":")", f.at("targetId").string_value(),
                                 R"(","flatten":true})"),
                    "", &attached)) {
            return false;
          }
          session_ = attached.fields().at("sessionId").string_value();
        }
      }
      if (session_.empty()) {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    google::protobuf::Struct ignored;
    return !session_.empty() && Call("Runtime.enable", "{}", session_, &ignored) &&
           Call("Page.enable", "{}", session_, &ignored);
  }

  // Sends a command of the page's session; its "result" (false on an error
  // answer or after `timeout`).
  bool Command(const std::string& method, const std::string& params,
               google::protobuf::Struct* result, absl::Duration timeout = absl::Seconds(10)) {
    return Call(method, params, session_, result, timeout);
  }

  // Opens `url` in the page (Page.navigate; does not wait for the load).
  bool Navigate(const std::string& url) {
    google::protobuf::Struct ignored;
    return Command("Page.navigate", absl::StrCat(R"({"url":)", Quote(url), "}"), &ignored);
  }

  // The viewport as a device `width` CSS px wide (mobile: the page's
  // <meta name=viewport> applies, as on a phone).
  bool SetViewport(int width, int height, bool mobile) {
    google::protobuf::Struct ignored;
    return Command(
        "Emulation.setDeviceMetricsOverride",
        absl::StrCat(R"({"width":)", width, R"(,"height":)", height,
                     R"(,"deviceScaleFactor":1,"mobile":)", mobile ? "true" : "false", "}"),
        &ignored);
  }

  // A PNG of the viewport ("" on failure).
  std::string ScreenshotPng() {
    google::protobuf::Struct result;
    if (!Command("Page.captureScreenshot", R"({"format":"png"})", &result, absl::Seconds(30))) {
      return "";
    }
    std::string png;
    auto data = result.fields().find("data");
    if (data == result.fields().end() || !absl::Base64Unescape(data->second.string_value(), &png)) {
      return "";
    }
    return png;
  }

  // The value of `expression` in the page as a string ("" on an exception or
  // a value that is not a string). A promise is awaited (up to `timeout`).
  std::string Evaluate(const std::string& expression, absl::Duration timeout = absl::Seconds(10)) {
    google::protobuf::Struct result;
    if (!Command("Runtime.evaluate",
                 absl::StrCat(R"({"expression":)", Quote(expression),
                              R"(,"returnByValue":true,"awaitPromise":true})"),
                 &result, timeout)) {
      return "";
    }
    const auto& r = result.fields().at("result").struct_value().fields();
    auto value = r.find("value");
    if (value == r.end() || result.fields().contains("exceptionDetails")) {
      return "";
    }
    return value->second.has_string_value() ? value->second.string_value() : "";
  }

  // Polls `expression` until it yields `want` or `timeout` passes; the last value.
  std::string WaitFor(const std::string& expression, const std::string& want,
                      absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string got = Evaluate(expression);
    while (got != want && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      got = Evaluate(expression);
    }
    return got;
  }

  // Console errors and uncaught exceptions seen so far.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  static std::string Quote(const std::string& s) {
    google::protobuf::Value v;
    v.set_string_value(s);
    std::string quoted;
    (void)google::protobuf::util::MessageToJsonString(v, &quoted);
    return quoted;
  }

  // Sends a command and waits (`timeout`) for its answer's "result".
  bool Call(const std::string& method, const std::string& params, const std::string& session,
            google::protobuf::Struct* result, absl::Duration timeout = absl::Seconds(10)) {
    const int id = ++next_id_;
    std::string msg =
        absl::StrCat(R"({"id":)", id, R"(,"method":")", method, R"(","params":)", params);
    if (!session.empty()) {
      absl::StrAppend(&msg, R"(,"sessionId":")", session, "\"");
    }
    msg += '}';
    msg += '\0';
    size_t sent = 0;
    while (sent < msg.size()) {
      const ssize_t n = write(to_, msg.data() + sent, msg.size() - sent);
      if (n <= 0) {
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      const size_t nul = buffer_.find('\0');
      if (nul == std::string::npos) {
        pollfd p{from_, POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
          char buf[65536];
          const ssize_t n = read(from_, buf, sizeof(buf));
          if (n <= 0) {
            return false;
          }
          buffer_.append(buf, static_cast<size_t>(n));
        }
        continue;
      }
      const std::string one = buffer_.substr(0, nul);
      buffer_.erase(0, nul + 1);
      google::protobuf::Struct message;
      if (!google::protobuf::util::JsonStringToMessage(one, &message).ok()) {
        continue;
      }
      const auto& f = message.fields();
      auto m = f.find("method");
      if (m != f.end()) {  // an event
        if (m->second.string_value() == "Runtime.exceptionThrown" ||
            (m->second.string_value() == "Runtime.consoleAPICalled" &&
             one.find(R"("type":"error")") != std::string::npos)) {
          errors_.push_back(one.substr(0, 500));
        }
        continue;
      }
      auto got_id = f.find("id");
      if (got_id != f.end() && static_cast<int>(got_id->second.number_value()) == id) {
        auto r = f.find("result");
        if (r == f.end()) {
          return false;
        }
        *result = r->second.struct_value();
        return true;
      }
    }
    return false;
  }

  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  int next_id_ = 0;
  std::string buffer_;
  std::string session_;
  std::vector<std::string> errors_;
};

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_WEB_DEVTOOLS_BROWSER_H_
