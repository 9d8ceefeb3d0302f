// A v2 WPC's workspace path rules (side_effect:filesystem_read|write globs, docs/formats.md §2):
// the one place that says which workspace path a file tool may touch, and whether a command, which
// could touch any of them, can be let into a workspace the rules guard.
#include <fnmatch.h>

#include <algorithm>

#include "policy/json.h"
#include "policy/paths.h"
#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {
namespace {

// `*` and `?` match any character, `/` and a leading `.` included: a glob names paths, not
// components, so that `*.key` also guards `keys/a.key` and `*` allows every path.
bool glob_matches(const std::string& glob, const std::string& path) {
  return ::fnmatch(glob.c_str(), path.c_str(), 0) == 0;
}

const std::string* first_matching(const std::vector<std::string>& globs, const std::string& path) {
  auto it = std::find_if(globs.begin(), globs.end(), [&](const auto& g) { return glob_matches(g, path); });
  return it == globs.end() ? nullptr : &*it;
}

const char* direction(bool write) { return write ? "filesystem_write" : "filesystem_read"; }

// One element of a glob: a literal character, `*`, or one character of any value (`?` and a
// bracket expression, which is read as matching anything: the answer may only err towards "may").
struct Token {
  enum Kind { literal, star, any } kind;
  char c = 0;
};

std::vector<Token> tokens_of(const std::string& glob) {
  std::vector<Token> out;
  for (size_t i = 0; i < glob.size(); ++i) {
    char c = glob[i];
    if (c == '*') {
      out.push_back({Token::star});
    } else if (c == '?') {
      out.push_back({Token::any});
    } else if (c == '[') {
      size_t first = i + 1 < glob.size() && (glob[i + 1] == '!' || glob[i + 1] == '^') ? i + 2 : i + 1;
      size_t close = glob.find(']', first + 1);
      out.push_back({Token::any});
      if (close != std::string::npos) i = close;
    } else if (c == '\\' && i + 1 < glob.size()) {
      out.push_back({Token::literal, glob[++i]});
    } else {
      out.push_back({Token::literal, c});
    }
  }
  return out;
}

// Whether `glob` may match some path that starts with `prefix`: the glob can consume all of
// `prefix` (whatever it still needs can then be supplied by the rest of the path).
bool may_match_with_prefix(const std::string& glob, const std::string& prefix) {
  auto t = tokens_of(glob);
  std::vector<bool> at(t.size() + 1, false), next(t.size() + 1);
  auto close = [&](std::vector<bool>& s) {
    for (size_t i = 0; i < t.size(); ++i)
      if (s[i] && t[i].kind == Token::star) s[i + 1] = true;
  };
  at[0] = true;
  close(at);
  for (char c : prefix) {
    std::fill(next.begin(), next.end(), false);
    for (size_t i = 0; i < t.size(); ++i) {
      if (!at[i]) continue;
      if (t[i].kind == Token::star) next[i] = true;
      else if (t[i].kind == Token::any || t[i].c == c) next[i + 1] = true;
    }
    at.swap(next);
    close(at);
  }
  return std::find(at.begin(), at.end(), true) != at.end();
}

// Whether `glob` matches every path that starts with `prefix`: a literal start that `prefix`
// begins with, then only `*`.
bool matches_all_with_prefix(const std::string& glob, const std::string& prefix) {
  size_t stars = glob.find_last_not_of('*');
  std::string literal = stars == std::string::npos ? "" : glob.substr(0, stars + 1);
  if (literal.size() == glob.size() || literal.find_first_of("*?[\\") != std::string::npos) return false;
  return prefix.starts_with(literal);
}

}  // namespace

Result<std::string> normalize_workspace_path(std::string_view path) {
  if (path.empty()) return fail(Reason::BAD_FIELD, "an empty path");
  if (path.front() == '/')
    return fail(Reason::PATH_OUTSIDE_WORKSPACE, std::string(path) + ": paths are relative to the workspace");
  std::vector<std::string_view> parts;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    auto part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) return fail(Reason::PATH_OUTSIDE_WORKSPACE, std::string(path) + ": leaves the workspace");
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out.append(out.empty() ? "" : "/").append(p);
  return out.empty() ? std::string(".") : out;
}

std::optional<std::string> path_refusal(const Policy& wpc, std::string_view relative_path, bool write) {
  std::string path(relative_path);
  const auto& allow = write ? wpc.fs_write_globs : wpc.fs_read_globs;
  const auto& deny = write ? wpc.fs_write_deny_globs : wpc.fs_read_deny_globs;
  if (auto g = first_matching(deny, path)) return path + ": denied by the WPC's " + direction(write) + " Deny glob " + *g;
  if (allow.empty() || first_matching(allow, path)) return std::nullopt;
  return path + ": matched by none of the WPC's " + direction(write) + " Allow globs";
}

bool path_allowed(const Policy& wpc, std::string_view relative_path, bool write) {
  return !path_refusal(wpc, relative_path, write);
}

std::optional<std::string> path_refusal_beneath(const Policy& wpc, std::string_view dir, bool write) {
  std::string prefix = dir == "." ? "" : std::string(dir) + "/";
  const auto& allow = write ? wpc.fs_write_globs : wpc.fs_read_globs;
  const auto& deny = write ? wpc.fs_write_deny_globs : wpc.fs_read_deny_globs;
  std::string what = dir == "." ? std::string("paths of the workspace") : "paths beneath " + std::string(dir);
  for (const auto& g : deny)
    if (may_match_with_prefix(g, prefix)) return what + " may be denied by the WPC's " + direction(write) + " Deny glob " + g;
  if (allow.empty() ||
      std::any_of(allow.begin(), allow.end(), [&](const auto& g) { return matches_all_with_prefix(g, prefix); }))
    return std::nullopt;
  return what + " are not all matched by the WPC's " + direction(write) + " Allow globs";
}

std::optional<std::string> path_rules_restriction(const Policy& wpc, bool write) {
  return path_refusal_beneath(wpc, ".", write);
}

}  // namespace clawjail::policy
