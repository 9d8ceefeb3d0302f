// Bytes as text (docs/protocol.md "Bytes that are not text"): file names, paths and messages made by a
// jail or a client are bytes; JSON strings are UTF-8.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "policy/json.h"

namespace clawjail::policy {

bool is_utf8(std::string_view bytes);
// Valid UTF-8 as it is; every byte outside a valid sequence becomes the four characters \xNN.
// The explicit form for free text in signed or stored JSON (reasons, details).
std::string utf8_text(std::string_view bytes);
// utf8_text, and also control characters (C0, DEL, C1) and bidirectional overrides escaped
// (\xNN, \u{NNNN}): what a terminal or a log line may show of outside bytes.
std::string printable(std::string_view bytes);
// `value` with every string and key passed through utf8_text: dump() of it cannot throw.
Json utf8_json(Json value);
// A name as JSON: {"name": lossy UTF-8 (U+FFFD per bad byte)} and, when the bytes are not UTF-8,
// "name_b64" (standard base64 of the exact bytes). name_bytes() reads either back.
void put_name(Json& object, std::string_view bytes);
std::optional<std::string> name_bytes(const Json& object);

}  // namespace clawjail::policy
