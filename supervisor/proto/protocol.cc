// Request and response messages: strict parsing (unknown fields refused) and serialisation.
#include "supervisor/proto/protocol.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "policy/encoding.h"
#include "policy/job_id.h"
#include "policy/json.h"
#include "policy/models.h"
#include "base/reason.h"
#include "policy/text.h"
#include "supervisor/proto/exit_codes.h"

namespace clawjail::proto {
namespace {

Status only_known(const Json& obj, const std::set<std::string>& known, std::string_view where) {
  for (const auto& [key, _] : obj.items())
    if (!known.count(key)) return fail(Reason::UNKNOWN_FIELD, "unknown field " + std::string(where) + key);
  return ok_status();
}

// Reads obj[key] into out when present; `required` makes absence an error.
template <class T>
Status field(const Json& obj, const char* key, T& out, std::string_view where, bool required = false) {
  if (!obj.contains(key)) {
    if (required) return fail(Reason::MISSING_FIELD, "missing field " + std::string(where) + key);
    return ok_status();
  }
  const auto wrong_type = [&] { return fail(Reason::BAD_FIELD, "field " + std::string(where) + key + " has the wrong type"); };
  if (!policy::holds_exactly<T>(obj.at(key))) return wrong_type();
  try {
    out = obj.at(key).get<T>();
  } catch (const Json::exception&) {
    return wrong_type();
  }
  return ok_status();
}

// An enum field: its name must be one of the enum's names.
template <NamedEnum E>
Status field(const Json& obj, const char* key, E& out, std::string_view where, bool required = false) {
  std::string name;
  if (auto s = field(obj, key, name, where, required); !s || !obj.contains(key)) return s;
  auto value = from_name<E>(name);
  if (value) {
    out = *value;
    return ok_status();
  }
  std::string names;
  for (auto n : EnumNames<E>::names) names += (names.empty() ? "" : ", ") + std::string(n);
  return fail(Reason::BAD_FIELD, "field " + std::string(where) + key + " must be one of: " + names);
}

template <class T>
Status opt_field(const Json& obj, const char* key, std::optional<T>& out, std::string_view where) {
  if (!obj.contains(key) || obj.at(key).is_null()) return ok_status();
  T value{};
  if (auto s = field(obj, key, value, where); !s) return s;
  out = std::move(value);
  return ok_status();
}

Status first_error(std::initializer_list<Status> steps) {
  for (const auto& s : steps)
    if (!s) return s;
  return ok_status();
}

// {"rows": R, "cols": C}, each 1-1000, and only for a call with a terminal.
Status parse_pty_size(const Json& j, ExecArgs& a) {
  std::optional<std::map<std::string, int64_t>> size;
  if (auto s = opt_field(j, "pty_size", size, "exec."); !s || !size) return s;
  const auto dimension = [&](const char* key) -> int64_t {
    auto it = size->find(key);
    return it == size->end() ? 0 : it->second;
  };
  const int64_t rows = dimension("rows"), cols = dimension("cols");
  if (size->size() != 2 || rows < 1 || rows > 1000 || cols < 1 || cols > 1000)
    return fail(Reason::BAD_FIELD, "exec.pty_size must be {\"rows\": 1-1000, \"cols\": 1-1000}");
  if (!a.pty) return fail(Reason::BAD_FIELD, "exec.pty_size needs exec.pty");
  a.pty_size = PtySize{static_cast<int>(rows), static_cast<int>(cols)};
  return ok_status();
}

Result<ExecArgs> parse_exec(const Json& j) {
  if (!j.is_object()) return fail(Reason::BAD_FIELD, "exec must be an object");
  ExecArgs a;
  auto s = first_error({only_known(j, {"argv", "command", "workdir", "env", "timeout_ms", "pty", "pty_size", "elevated",
                                       "background"}, "exec."),
                        field(j, "argv", a.argv, "exec."), opt_field(j, "command", a.command, "exec."),
                        field(j, "workdir", a.workdir, "exec."), field(j, "env", a.env, "exec."),
                        opt_field(j, "timeout_ms", a.timeout_ms, "exec."), field(j, "pty", a.pty, "exec."),
                        field(j, "elevated", a.elevated, "exec."), field(j, "background", a.background, "exec.")});
  if (!s) return s.error();
  if (auto size = parse_pty_size(j, a); !size) return size.error();
  if (a.argv.empty() == !a.command.has_value())
    return fail(Reason::BAD_FIELD, "exec needs exactly one of argv (non-empty) and command");
  if (a.timeout_ms && *a.timeout_ms <= 0) return fail(Reason::BAD_FIELD, "exec.timeout_ms must be positive");
  return a;
}

// File names are bytes: `paths` as UTF-8 text, or `paths_b64` (standard base64 of each path).
Status parse_paths(const Json& j, std::vector<std::string>& paths) {
  if (j.contains("paths") == j.contains("paths_b64"))
    return fail(Reason::BAD_FIELD, "fs needs exactly one of paths and paths_b64");
  if (j.contains("paths")) return field(j, "paths", paths, "fs.", true);
  std::vector<std::string> encoded;
  if (auto s = field(j, "paths_b64", encoded, "fs.", true); !s) return s;
  for (const auto& e : encoded) {
    auto bytes = policy::b64_decode(e);
    if (!bytes) return fail(Reason::BAD_FIELD, "fs.paths_b64 holds a string that is not base64");
    paths.push_back(std::move(*bytes));
  }
  return ok_status();
}

// A write's inline data: standard base64 of at most kMaxInlineBytes.
Status parse_data(const Json& j, FsArgs& a) {
  std::optional<std::string> encoded;
  if (auto s = opt_field(j, "data_b64", encoded, "fs."); !s || !encoded) return s;
  if (a.op != FsOpKind::write) return fail(Reason::BAD_FIELD, "fs.data_b64 is for write only");
  const auto too_large = [] {
    return fail(Reason::BAD_FIELD, "fs.data_b64 holds more than " + std::to_string(kMaxInlineBytes) +
                                       " bytes (send larger data in ranges: fs.offset)");
  };
  // Text longer than the bound's encoding is refused before it is decoded.
  if (static_cast<int64_t>(encoded->size()) > (kMaxInlineBytes + 2) / 3 * 4) return too_large();
  auto bytes = policy::b64_decode(*encoded);
  if (!bytes) return fail(Reason::BAD_FIELD, "fs.data_b64 is not standard base64");
  if (static_cast<int64_t>(bytes->size()) > kMaxInlineBytes) return too_large();
  a.data = std::move(*bytes);
  return ok_status();
}

// offset (read, write) and length (read), never negative.
Status check_range(const FsArgs& a) {
  if (a.offset < 0 || (a.length && *a.length < 0)) return fail(Reason::BAD_FIELD, "fs.offset and fs.length cannot be negative");
  const std::string op(name_of(a.op));
  if (a.offset != 0 && a.op != FsOpKind::read && a.op != FsOpKind::write)
    return fail(Reason::BAD_FIELD, "fs." + op + " takes no offset");
  if (a.length && a.op != FsOpKind::read) return fail(Reason::BAD_FIELD, "fs." + op + " takes no length");
  return ok_status();
}

Result<FsArgs> parse_fs(const Json& j) {
  if (!j.is_object()) return fail(Reason::BAD_FIELD, "fs must be an object");
  FsArgs a;
  auto s = first_error({only_known(j, {"op", "paths", "paths_b64", "exclusive", "truncate", "recursive", "offset",
                                       "length", "data_b64"}, "fs."),
                        field(j, "op", a.op, "fs.", true), parse_paths(j, a.paths),
                        field(j, "exclusive", a.exclusive, "fs."), field(j, "truncate", a.truncate, "fs."),
                        field(j, "recursive", a.recursive, "fs."), field(j, "offset", a.offset, "fs."),
                        opt_field(j, "length", a.length, "fs."), parse_data(j, a), check_range(a)});
  if (!s) return s.error();
  if (a.paths.size() != path_count(a.op))
    return fail(Reason::BAD_FIELD,
                "fs." + std::string(name_of(a.op)) + " takes " + std::to_string(path_count(a.op)) + " path(s)");
  return a;
}

Result<ModelArgs> parse_model(const Json& j) {
  if (!j.is_object()) return fail(Reason::BAD_FIELD, "model must be an object");
  ModelArgs a;
  auto s = first_error({only_known(j, {"provider", "model"}, "model."), field(j, "provider", a.provider, "model.", true),
                        field(j, "model", a.model, "model.", true)});
  if (!s) return s.error();
  for (const std::string* v : {&a.provider, &a.model})
    if (v->empty() || v->size() > 256 || !policy::is_utf8(*v))
      return fail(Reason::BAD_FIELD, "model.provider and model.model are 1 to 256 bytes of UTF-8");
  return a;
}

Status parse_call_body(const Json& j, Request& r) {
  auto s = first_error({opt_field(j, "cst", r.cst, ""), opt_field(j, "wpc_hash_b64u", r.wpc_hash_b64u, ""),
                        field(j, "tool", r.tool, "", true), opt_field(j, "workspace", r.workspace, "")});
  if (!s) return s;
  if (int(j.contains("exec")) + int(j.contains("fs")) + int(j.contains("model")) != 1)
    return fail(Reason::BAD_FIELD, "a call has exactly one of exec, fs and model");
  if (j.contains("model")) {
    auto m = parse_model(j["model"]);
    if (!m) return m.error();
    if (r.tool != policy::kModelCallTool) return fail(Reason::BAD_FIELD, "tool " + r.tool + " does not take model arguments");
    r.model = std::move(m.value());
  } else if (j.contains("exec")) {
    auto e = parse_exec(j["exec"]);
    if (!e) return e.error();
    if (r.tool != "exec") return fail(Reason::BAD_FIELD, "tool " + r.tool + " does not take exec arguments");
    r.exec = std::move(e.value());
  } else {
    auto f = parse_fs(j["fs"]);
    if (!f) return f.error();
    if (r.tool != name_of(f->op))
      return fail(Reason::BAD_FIELD, "tool " + r.tool + " does not match fs.op " + std::string(name_of(f->op)));
    r.fs = std::move(f.value());
  }
  if (r.workspace && (r.workspace->empty() || r.workspace->front() != '/' || r.workspace->find('\0') != std::string::npos))
    return fail(Reason::BAD_FIELD, "workspace must be an absolute host path, without a NUL byte");
  return ok_status();
}

}  // namespace

std::variant<Request, ParseFailure> parse_request(const Json& j) {
  if (!j.is_object()) return ParseFailure{fail(Reason::REQUEST_MALFORMED, "a request is a JSON object"), {}};
  ParseFailure failure;
  if (j.contains("job_id") && j["job_id"].is_string() && policy::check_job_id(j["job_id"].get<std::string>()))
    failure.job_id = j["job_id"].get<std::string>();
  Request r;
  int version = 0;
  auto s = first_error({only_known(j, {"clawjail_protocol", "type", "job_id", "cst", "wpc_hash_b64u", "tool",
                                       "workspace", "exec", "fs", "model"}, ""),
                        field(j, "clawjail_protocol", version, "", true), field(j, "type", r.type, "", true),
                        field(j, "job_id", r.job_id, "", true)});
  if (s && version != kProtocolVersion)
    s = fail(Reason::REQUEST_MALFORMED, "protocol version " + std::to_string(version) + ", this supervisor speaks 1");
  if (s)
    if (auto id = policy::check_job_id(r.job_id); !id) s = fail(Reason::BAD_FIELD, "job_id: " + id.error().detail);
  if (s && r.type == RequestType::call) s = parse_call_body(j, r);
  else if (s)
    s = first_error({only_known(j, {"clawjail_protocol", "type", "job_id", "cst"}, ""), opt_field(j, "cst", r.cst, "")});
  if (!s) {
    failure.error = s.error();
    return failure;
  }
  return r;
}

Json request_to_json(const Request& r) {
  Json j = {{"clawjail_protocol", kProtocolVersion}, {"type", name_of(r.type)}, {"job_id", r.job_id}};
  if (r.cst) j["cst"] = *r.cst;
  if (r.type != RequestType::call) return j;
  j["tool"] = r.tool;
  if (r.wpc_hash_b64u) j["wpc_hash_b64u"] = *r.wpc_hash_b64u;
  if (r.workspace) j["workspace"] = *r.workspace;
  if (r.exec) {
    const auto& e = *r.exec;
    Json ej = {{"workdir", e.workdir}, {"env", e.env}, {"pty", e.pty}, {"elevated", e.elevated},
               {"background", e.background}};
    if (e.command) ej["command"] = *e.command;
    else ej["argv"] = e.argv;
    if (e.timeout_ms) ej["timeout_ms"] = *e.timeout_ms;
    if (e.pty_size) ej["pty_size"] = {{"rows", e.pty_size->rows}, {"cols", e.pty_size->cols}};
    j["exec"] = ej;
  }
  if (r.model) j["model"] = {{"provider", r.model->provider}, {"model", r.model->model}};
  if (r.fs) {
    j["fs"] = {{"op", name_of(r.fs->op)}, {"exclusive", r.fs->exclusive}, {"truncate", r.fs->truncate},
               {"recursive", r.fs->recursive}};
    const auto& paths = r.fs->paths;
    if (std::all_of(paths.begin(), paths.end(), [](const std::string& p) { return policy::is_utf8(p); })) {
      j["fs"]["paths"] = paths;
    } else {
      Json& encoded = j["fs"]["paths_b64"] = Json::array();
      for (const auto& p : paths) encoded.push_back(policy::b64_encode(p));
    }
    if (r.fs->offset != 0) j["fs"]["offset"] = r.fs->offset;
    if (r.fs->length) j["fs"]["length"] = *r.fs->length;
    if (r.fs->data) j["fs"]["data_b64"] = policy::b64_encode(*r.fs->data);
  }
  return j;
}

Json response_to_json(const Response& r) {
  Json j = {{"type", name_of(r.type)}, {"call_id", r.call_id}, {"decision", name_of(r.decision)},
            {"reason_code", std::string(reason_name(r.reason))}, {"reason", r.reason_detail},
            {"status", name_of(r.status)}, {"exit_code", r.exit_code}, {"signal", r.signal},
            {"receipt_ids", r.receipt_ids}, {"killed_calls", r.killed_calls}, {"truncated", r.truncated}};
  if (r.value) j["value"] = *r.value;
  return j;
}

std::string response_body(const Response& r) {
  Response clean = r;
  clean.reason_detail = policy::utf8_text(r.reason_detail);
  // A value is built from names already made text (policy::put_name); `replace` only guards
  // against a bug, in an answer that is not signed.
  std::string body = response_to_json(clean).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (body.size() <= kMaxFrameBytes) return body;
  clean.value.reset();
  clean.truncated = false;
  clean.reason = Reason::INTERNAL_ERROR;
  clean.reason_detail = "the answer would exceed " + std::to_string(kMaxFrameBytes) + " bytes";
  clean.status = CallStatus::failed;
  clean.exit_code = kExitSupervisor;
  return response_to_json(clean).dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Response> parse_response(const Json& j) {
  Response r;
  std::string reason;
  std::optional<Json> value;
  auto s = first_error({field(j, "type", r.type, "", true), field(j, "call_id", r.call_id, ""),
                        field(j, "decision", r.decision, "", true), field(j, "reason_code", reason, "", true),
                        field(j, "reason", r.reason_detail, ""), field(j, "status", r.status, "", true),
                        field(j, "exit_code", r.exit_code, "", true), field(j, "signal", r.signal, ""),
                        field(j, "receipt_ids", r.receipt_ids, ""), field(j, "killed_calls", r.killed_calls, "")});
  if (!s) return s.error();
  auto code = reason_from_name(reason);
  if (!code) return fail(Reason::REQUEST_MALFORMED, "unknown reason code " + reason);
  r.reason = *code;
  if (j.contains("value")) r.value = j["value"];
  if (j.contains("truncated") && j["truncated"].is_boolean()) r.truncated = j["truncated"].get<bool>();
  return r;
}

}  // namespace clawjail::proto
