// Bytes a jail sends to the egress proxy, parsed in the root supervisor (sandbox/egress_policy.cc):
// the request head of a CONNECT or plain-HTTP proxy request, then the approved-hosts rule. An
// accepted request must name a plain host and port, and a plain request's head for upstream must
// be exactly one head: nothing the jail sent may ride along as a second request or header.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sandbox/egress.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool host_chars(const std::string& host) {
  for (unsigned char c : host)
    if (!(std::isalnum(c) || c == '-' || c == '.')) return false;
  return !host.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail::sandbox::detail;
  std::string_view head(reinterpret_cast<const char*>(data), size);
  ProxyRequest r = parse_proxy_request(head);
  if (r.status != 0) {
    check(r.status >= 400 && r.status < 600 && !r.reason.empty());
    check(r.host.size() <= 64 || host_chars(r.host));
    return 0;
  }
  check(host_chars(r.host) && r.port >= 1 && r.port <= 65535 && r.body_bytes >= 0);
  if (!r.tunnel) {
    check(r.upstream_head.ends_with("\r\n\r\n"));
    check(r.upstream_head.find("\r\n\r\n") == r.upstream_head.size() - 4);
    for (size_t i = 0; i < r.upstream_head.size(); ++i) {  // no bare CR or LF
      char c = r.upstream_head[i];
      if (c == '\r') check(i + 1 < r.upstream_head.size() && r.upstream_head[i + 1] == '\n');
      if (c == '\n') check(i > 0 && r.upstream_head[i - 1] == '\r');
    }
  }
  (void)egress_refusal({"a.example", "b.example:8080", "localhost"}, r.host, r.port);
  return 0;
}
