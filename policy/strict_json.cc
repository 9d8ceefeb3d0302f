// The only door for JSON from outside (WPC files, tokens, requests). nlohmann's DOM parser silently
// keeps the last of two duplicate keys; a signed policy read two ways is an attack, so we parse
// through SAX and build the DOM ourselves, refusing duplicates, depth, floats and size on the way.
#include <set>

#include "policy/json.h"
#include "policy/strict_json.h"

namespace clawjail::policy {
namespace {

struct Frame {
  Json* node;
  std::set<std::string> keys;
  std::string key;   // the pending key of an object
  size_t index = 0;  // the next index of an array
};

class StrictBuilder : public nlohmann::json_sax<Json> {
 public:
  explicit StrictBuilder(const JsonLimits& limits) : limits_(limits) {}
  Json root;
  std::optional<Error> error;

  bool null() override { return put(Json(nullptr)); }
  bool boolean(bool v) override { return put(Json(v)); }
  bool number_integer(number_integer_t v) override { return put(Json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(Json(v)); }
  bool number_float(number_float_t v, const string_t&) override {
    if (!limits_.allow_floats) return refuse(Reason::FLOAT_NOT_ALLOWED, path() + ": floats are not allowed");
    return put(Json(v));
  }
  bool string(string_t& v) override { return put(Json(std::move(v))); }
  bool binary(binary_t&) override { return refuse(Reason::BAD_JSON, path() + ": binary value"); }
  bool start_object(std::size_t) override { return open(Json::object()); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    auto& top = stack_.back();
    top.key = k;
    if (!top.keys.insert(k).second) return refuse(Reason::DUPLICATE_KEY, path() + ": duplicate key");
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    if (!error) error = Error{Reason::BAD_JSON, "at byte " + std::to_string(position) + ": " + e.what()};
    return false;
  }

 private:
  bool refuse(Reason r, std::string detail) {
    error = Error{r, std::move(detail)};
    return false;
  }

  // Inserts v at the current place and returns where it went.
  Json* place(Json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    auto& top = stack_.back();
    if (top.node->is_array()) {
      top.index++;
      top.node->push_back(std::move(v));
      return &top.node->back();
    }
    return &((*top.node)[top.key] = std::move(v));
  }

  bool put(Json v) {
    place(std::move(v));
    return true;
  }

  bool open(Json container) {
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      return refuse(Reason::DOCUMENT_TOO_DEEP,
                    path() + ": deeper than " + std::to_string(limits_.max_depth) + " levels");
    Json* node = place(std::move(container));
    stack_.push_back(Frame{node, {}, {}, 0});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  std::string path() const {
    std::string p = "$";
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      const auto& f = stack_[i];
      p += f.node->is_array() ? "[" + std::to_string(f.index - 1) + "]" : "." + f.key;
    }
    if (stack_.empty()) return p;
    const auto& last = stack_.back();
    p += last.node->is_array() ? "[" + std::to_string(last.index) + "]" : "." + last.key;
    return p;
  }

  const JsonLimits& limits_;
  std::vector<Frame> stack_;
};

}  // namespace

Result<Json> parse_strict_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return fail(Reason::DOCUMENT_TOO_LARGE, std::to_string(text.size()) + " bytes > limit " +
                                                std::to_string(limits.max_bytes));
  StrictBuilder builder(limits);
  bool ok = Json::sax_parse(text, &builder, Json::input_format_t::json, true, false);
  if (builder.error) return *builder.error;
  if (!ok) return fail(Reason::BAD_JSON, "not valid JSON");
  return std::move(builder.root);
}

}  // namespace clawjail::policy
