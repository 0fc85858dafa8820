#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace opsm::testing {

Process::Process(std::vector<std::string> argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    setpgid(0, 0);
    // A working directory of its own, beside its log (the test's temporary directory), not the
    // test binary's: a build tree may be one a server's user cannot enter.
    if (auto slash = log_path_.rfind('/'); slash != std::string::npos && slash > 0) {
      if (chdir(log_path_.substr(0, slash).c_str()) != 0) {
        // stays where it was
      }
    }
    // The test's own sockets (fixture servers, listeners) stay with the test: a server under
    // test must not hold them open.
    close_range(3, ~0U, 0);
    execvp(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() { stop(); }

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Process::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Process::stop(int signal, std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  // The child leads its own process group (setpgid in the constructor): signal the group, so
  // that a server's workers (php -S, zabbix_server's processes) go with it.
  if (kill(-pid_, signal) != 0) kill(pid_, signal);
  bool exited = false;
  for (long i = 0; i < grace.count() / 100 && !exited; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!exited) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  // Whatever of the group outlived its leader is stopped too.
  kill(-pid_, SIGKILL);
  pid_ = -1;
}

std::string Process::log() const {
  std::ifstream in(log_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

unsigned short freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind to 127.0.0.1:0 failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

unsigned short agentPort(const Process& agent, std::chrono::milliseconds timeout) {
  static const std::string kSays = "listening on http://127.0.0.1:";
  unsigned short port = 0;
  waitFor(
      [&] {
        const std::string log = agent.log();
        auto at = log.find(kSays);
        if (at == std::string::npos) return false;
        port = static_cast<unsigned short>(std::strtoul(log.c_str() + at + kSays.size(), nullptr, 10));
        return port != 0;
      },
      timeout);
  return port;
}

std::string findExecutable(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string full = dir + "/" + name;
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

}  // namespace opsm::testing
