// A tiny HTTP server on the host's loopback (or any address) for the egress tests: it answers
// every request with its path, records the request heads it saw, and keeps `/hold` requests open
// (unanswered) until it is destroyed. `/big` answers 4 MiB; `/upload` reads the body and answers
// its length. `/linger` waits a moment for more bytes and records them with the head, then
// answers with keep-alive: what a proxy forwards after a request is seen.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace clawjail::sandbox::testing {

class HostServer {
 public:
  explicit HostServer(in_addr_t address = INADDR_LOOPBACK) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(address);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) return;
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (pipe2(stop_, O_CLOEXEC) != 0) return;
    thread_ = std::thread([this] { loop(); });
  }
  ~HostServer() {
    if (thread_.joinable()) {
      (void)!write(stop_[1], "x", 1);
      thread_.join();
    }
    for (int fd : held_) close(fd);
    for (int fd : {fd_, stop_[0], stop_[1]})
      if (fd >= 0) close(fd);
  }
  int port() const { return port_; }
  std::string port_str() const { return std::to_string(port_); }
  std::vector<std::string> heads() {
    std::lock_guard lock(mu_);
    return heads_;
  }

 private:
  void loop() {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(p, 2, -1) < 0) continue;
      if (p[1].revents) return;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) serve(c);
    }
  }
  void serve(int c) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) break;
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    auto sp = head.find(' ');
    std::string path = sp == std::string::npos ? "" : head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
    for (pollfd p{c, POLLIN, 0}; path == "/linger" && poll(&p, 1, 500) > 0;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      heads_.push_back(head);
    }
    if (path == "/hold") {
      held_.push_back(c);
      return;
    }
    std::string body = "hello from the host: " + path + "\n";
    if (path == "/big") body = std::string(4 << 20, 'x');
    if (path == "/upload") body = "received " + std::to_string(read_body(c, head)) + "\n";
    std::string response = std::string(path == "/linger" ? "HTTP/1.1 200 OK\r\nConnection: keep-alive" : "HTTP/1.0 200 OK") +
                           "\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)!send(c, response.data(), response.size(), MSG_NOSIGNAL);
    close(c);
  }

  // The request body announced by Content-Length: bytes already read after the head, then the rest.
  static size_t read_body(int c, const std::string& head) {
    auto at = head.find("Content-Length: ");
    size_t want = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    size_t got = head.size() - (head.find("\r\n\r\n") + 4);
    char buf[65536];
    while (got < want) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) break;
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    return got;
  }

  int fd_ = -1, port_ = 0;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> heads_;
  std::vector<int> held_;
};

}  // namespace clawjail::sandbox::testing
