// Private to policy/: what was made of a file's bytes, kept until the bytes change.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "policy/strict_json.h"

namespace clawjail::policy {

// The file is read on every get() (one small read), but parsed and verified again only when its
// bytes differ from last time: no timestamp or inode can make a changed file look unchanged.
// A failed parse is never kept. Thread-safe.
template <class T>
class FileCache {
 public:
  using Value = std::shared_ptr<const T>;
  using Parse = std::function<Result<T>(const std::string& bytes)>;
  // A file that cannot be read (or is over max_bytes) is reported as `unreadable`; parse's own
  // errors are returned as they are.
  Result<Value> get(const std::filesystem::path& path, size_t max_bytes, Reason unreadable, const Parse& parse);

 private:
  std::mutex mu_;
  std::map<std::filesystem::path, std::pair<std::string, Value>> entries_;
};

template <class T>
Result<typename FileCache<T>::Value> FileCache<T>::get(const std::filesystem::path& path, size_t max_bytes,
                                                       Reason unreadable, const Parse& parse) {
  auto bytes = read_file_limited(path, max_bytes);
  if (!bytes) return fail(unreadable, bytes.error().detail);
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(path);
    if (it != entries_.end() && it->second.first == *bytes) return it->second.second;
  }
  auto parsed = parse(*bytes);
  if (!parsed) return parsed.error();
  Value value = std::make_shared<const T>(std::move(parsed.value()));
  std::lock_guard lock(mu_);
  entries_[path] = {std::move(*bytes), value};
  return value;
}

}  // namespace clawjail::policy
