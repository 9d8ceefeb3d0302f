#include "policy/fields.h"

#include <algorithm>

#include "policy/json.h"
#include "base/reason.h"

namespace clawjail::policy::fields {

std::string join(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
}

Status require_object(const Json& value, std::string_view where) {
  if (!value.is_object()) return fail(Reason::BAD_FIELD, std::string(where) + ": must be an object");
  return ok_status();
}

Status only_keys(const Json& obj, std::initializer_list<std::string_view> known, std::string_view where) {
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      return fail(Reason::UNKNOWN_FIELD, join(where, it.key()) + ": unknown field");
  return ok_status();
}

Status require_keys(const Json& obj, std::initializer_list<std::string_view> keys, std::string_view where) {
  for (auto key : keys)
    if (!obj.contains(key)) return fail(Reason::MISSING_FIELD, join(where, key) + ": required");
  return ok_status();
}

Status read_string(const Json& obj, std::string_view key, std::string& out, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return ok_status();
  if (!it->is_string()) return fail(Reason::BAD_FIELD, join(where, key) + ": must be a string");
  out = it->get<std::string>();
  return ok_status();
}

Status read_optional_string(const Json& obj, std::string_view key, std::optional<std::string>& out,
                            std::string_view where) {
  if (!obj.contains(key)) return ok_status();
  std::string value;
  if (auto s = read_string(obj, key, value, where); !s) return s;
  out = std::move(value);
  return ok_status();
}

Status read_bool(const Json& obj, std::string_view key, bool& out, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return ok_status();
  if (!it->is_boolean()) return fail(Reason::BAD_FIELD, join(where, key) + ": must be true or false");
  out = it->get<bool>();
  return ok_status();
}

Status read_int(const Json& obj, std::string_view key, int64_t& out, int64_t min, int64_t max,
                std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return ok_status();
  if (it->is_number_float()) return fail(Reason::FLOAT_NOT_ALLOWED, join(where, key) + ": must be an integer");
  if (!it->is_number_integer()) return fail(Reason::BAD_FIELD, join(where, key) + ": must be an integer");
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max))
    return fail(Reason::BAD_FIELD, join(where, key) + ": above " + std::to_string(max));
  auto v = it->get<int64_t>();
  if (v < min || v > max)
    return fail(Reason::BAD_FIELD, join(where, key) + ": must be in [" + std::to_string(min) + ", " +
                                       std::to_string(max) + "]");
  out = v;
  return ok_status();
}

Status read_strings(const Json& obj, std::string_view key, std::vector<std::string>& out,
                    std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return ok_status();
  if (!it->is_array()) return fail(Reason::BAD_FIELD, join(where, key) + ": must be an array of strings");
  std::vector<std::string> values;
  for (const auto& item : *it) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty())
      return fail(Reason::BAD_FIELD, join(where, key) + ": must be an array of non-empty strings");
    values.push_back(item.get<std::string>());
  }
  out = std::move(values);
  return ok_status();
}

Status no_floats(const Json& value, std::string_view where) {
  if (value.is_number_float()) return fail(Reason::FLOAT_NOT_ALLOWED, std::string(where) + ": floats are not allowed");
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      if (auto s = no_floats(*it, join(where, it.key())); !s) return s;
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i)
      if (auto s = no_floats(value[i], std::string(where) + "[" + std::to_string(i) + "]"); !s) return s;
  }
  return ok_status();
}

}  // namespace clawjail::policy::fields
