// Bytes made by a jail or a client on their way into JSON (policy/text.cc): a file name of the
// jail in an `fs ls` answer, a path or message in a reason, a receipt quoting either. Whatever the
// bytes, serialising must not throw, names must round-trip exactly, and the text forms must be
// UTF-8 with nothing a terminal acts on.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/text.h"
#include "receipts/internal.h"
#include "supervisor/proto/protocol.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool terminal_safe(const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return false;
  return clawjail::policy::is_utf8(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail;
  using policy::Json;
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  Json entry = Json::object();
  policy::put_name(entry, bytes);
  check(policy::name_bytes(Json::parse(entry.dump())) == bytes);
  check(policy::is_utf8(policy::utf8_text(bytes)));
  check(policy::utf8_text(bytes) == bytes || !policy::is_utf8(bytes));
  check(terminal_safe(policy::printable(bytes)));
  (void)policy::utf8_json(Json{{bytes, Json::array({bytes, {{"k", bytes}}})}}).dump();

  // An answer carrying the bytes as a name and in its reason.
  proto::Response r;
  r.reason_detail = bytes;
  r.value = Json::array({entry});
  auto answer = policy::parse_strict_json(proto::response_body(r));
  check(answer.ok());
  auto back = proto::parse_response(*answer);
  check(back.ok() && policy::name_bytes(back->value->at(0)) == bytes);

  // A signed receipt payload quoting them: explicit \xNN, always valid JSON.
  receipts::Draft d;
  d.phase = clawjail::ReceiptPhase::blocked;
  d.job_id = "job-fuzz";
  d.call_id = "call-fuzz";
  d.tool = "exec";
  d.reason = Reason::FS_OP_FAILED;
  d.reason_detail = bytes;
  d.result = std::nullopt;
  auto payload = receipts::detail::receipt_payload(d, {}, "rcpt_fuzz", "2026-01-01T00:00:00.000Z");
  auto parsed = policy::parse_strict_json(payload, {.max_bytes = 8 << 20});
  check(parsed.ok() && (*parsed)["reason"] == policy::utf8_text(bytes.empty() ? "FS_OP_FAILED" : bytes));
  return 0;
}
