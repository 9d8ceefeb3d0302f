// Private to policy/: strict readers for fields of already-parsed JSON objects. Each refusal names
// the field by its path ("tools.elevated.enabled"), because an operator fixing a refused policy
// needs to know where to look.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/json.h"
#include "base/reason.h"

namespace clawjail::policy::fields {

// `where` is the path of the object ("" for the root); keys are appended to it.
std::string join(std::string_view where, std::string_view key);

Status require_object(const Json& value, std::string_view where);
Status only_keys(const Json& obj, std::initializer_list<std::string_view> known, std::string_view where);
Status require_keys(const Json& obj, std::initializer_list<std::string_view> keys, std::string_view where);

// Each reader leaves `out` alone when the key is absent; a present key of the wrong type or out of
// range is BAD_FIELD.
Status read_string(const Json& obj, std::string_view key, std::string& out, std::string_view where);
Status read_optional_string(const Json& obj, std::string_view key, std::optional<std::string>& out,
                            std::string_view where);
Status read_bool(const Json& obj, std::string_view key, bool& out, std::string_view where);
Status read_int(const Json& obj, std::string_view key, int64_t& out, int64_t min, int64_t max,
                std::string_view where);
Status read_strings(const Json& obj, std::string_view key, std::vector<std::string>& out,
                    std::string_view where);

// Refuses floats anywhere below `value` (documents built in code bypass parse_strict_json).
Status no_floats(const Json& value, std::string_view where);

}  // namespace clawjail::policy::fields
