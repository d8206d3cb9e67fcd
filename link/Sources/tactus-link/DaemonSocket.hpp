// tactus-link: GPL-2.0-or-later (see link/LICENSE).
#pragma once
// The daemon's JSON-lines socket (output.jsonl_socket), read line by line. The daemon may
// restart at any time: the connection is retried with back-off (0.25 s doubling to 4 s).
// Lines are bounded: a line over 4 KiB is dropped whole and counted as bad.
#include <cerrno>
#include <cstring>
#include <functional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace tactus_link {

class DaemonSocket {
 public:
  static constexpr size_t maxLine = 4096;

  explicit DaemonSocket(std::string path) : path_(std::move(path)) {}
  ~DaemonSocket() { disconnect(); }

  bool connected() const { return fd_ >= 0; }
  long badLines() const { return bad_; }

  /// Waits up to `timeoutMs` for lines and hands each to `onLine`; connects when due. Returns
  /// false when the connection was lost or could not be made (a message in `error`).
  bool poll(int timeoutMs, const std::function<void(const std::string&)>& onLine, std::string& error) {
    if (fd_ < 0 && !connect(error)) {
      usleep(useconds_t(timeoutMs) * 1000);
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, timeoutMs);
    if (n <= 0) return n == 0 || errno == EINTR;
    char chunk[8192];
    ssize_t got = ::read(fd_, chunk, sizeof chunk);
    if (got <= 0) {
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
      error = got == 0 ? "the daemon closed the socket" : std::string("read: ") + std::strerror(errno);
      disconnect();
      return false;
    }
    for (ssize_t i = 0; i < got; ++i) {
      char c = chunk[i];
      if (c == '\n') {
        if (skipping_) ++bad_;
        else if (!line_.empty()) onLine(line_);
        line_.clear();
        skipping_ = false;
      } else if (!skipping_) {
        if (line_.size() >= maxLine) {
          skipping_ = true;
          line_.clear();
        } else {
          line_.push_back(c);
        }
      }
    }
    return true;
  }

  void countBad() { ++bad_; }

 private:
  bool connect(std::string& error) {
    if (now() < retryAt_) return false;
    sockaddr_un addr{};
    if (path_.size() >= sizeof addr.sun_path) {
      error = "socket path too long: " + path_;
      retryAt_ = now() + 4;
      return false;
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size());
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error = "cannot connect to " + path_ + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      retryAt_ = now() + backoff_;
      backoff_ = std::min(backoff_ * 2, 4.0);
      return false;
    }
    fd_ = fd;
    backoff_ = 0.25;
    line_.clear();
    skipping_ = false;
    return true;
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  static double now() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
  }

  std::string path_;
  int fd_ = -1;
  std::string line_;
  bool skipping_ = false;
  long bad_ = 0;
  double backoff_ = 0.25, retryAt_ = 0;
};

}  // namespace tactus_link
