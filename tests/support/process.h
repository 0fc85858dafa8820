#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace opsm::testing {

// A child process started without a shell, its stdout and stderr going to `log_path`, in the
// directory of `log_path` (a server's own, not the test's working directory).
// The destructor stops it (SIGTERM, then SIGKILL after 5 s) and reaps it.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running();
  // Waits for the process to exit on its own; returns its exit code (128+signal if killed).
  int wait();
  // Sends SIGTERM (or `signal`) and waits for the process to exit: SIGKILL after `grace`.
  void stop(int signal = 15, std::chrono::milliseconds grace = std::chrono::seconds(5));
  int pid() const { return pid_; }
  std::string log() const;

 private:
  int pid_ = -1;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close): for
// third-party servers that cannot report the port they bound. Racy: another process may take
// it before the server binds it. An opsmaturity agent binds port 0 itself and reports it
// (agentPort()).
unsigned short freePort();

// The port an opsmaturity agent started with `listen_address: 127.0.0.1:0` bound, read from
// its log ("listening on http://127.0.0.1:PORT/metrics"); 0 if it did not say so in `timeout`.
unsigned short agentPort(const Process& agent, std::chrono::milliseconds timeout);

// Full path of `name` on $PATH, or "" if absent.
std::string findExecutable(const std::string& name);

// Polls `pred` every 100 ms until it returns true or `timeout` passes.
bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace opsm::testing
