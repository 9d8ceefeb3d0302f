// One libcurl easy handle per request, owned by a unique_ptr; no redirects (an answer is from the
// URL the operator configured), no protocol but http and https, no signals (the supervisor is
// threaded), and a write callback that stops the transfer past max_bytes.
#include "supervisor/fleet/http.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace clawjail::fleet {
namespace {

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  std::string body;
  size_t max_bytes;
  bool oversize = false;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body.size() + bytes > sink->max_bytes) {
    sink->oversize = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body.append(data, bytes);
  return bytes;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<HttpAnswer> http_get(const HttpGet& r, Reason reason) {
  global_init();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return fail(reason, r.url + ": cannot start an http client");
  CURL* c = curl.get();
  Sink sink{{}, r.max_bytes};
  char error[CURL_ERROR_SIZE] = {0};
  std::unique_ptr<curl_slist, ListDeleter> headers;
  if (!r.bearer.empty()) {
    std::string auth = "Authorization: Bearer " + r.bearer;
    headers.reset(curl_slist_append(nullptr, auth.c_str()));
    if (!headers) return fail(reason, r.url + ": out of memory");
  }
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "clawjail/" CLAWJAIL_VERSION);
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  CURLcode code = curl_easy_perform(c);
  if (sink.oversize || code == CURLE_FILESIZE_EXCEEDED)
    return fail(reason, r.url + ": the answer is larger than " + std::to_string(r.max_bytes) + " bytes");
  if (code != CURLE_OK)
    return fail(reason, r.url + ": " + (error[0] ? std::string(error) : std::string(curl_easy_strerror(code))));
  HttpAnswer answer;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.body = std::move(sink.body);
  return answer;
}

}  // namespace clawjail::fleet
