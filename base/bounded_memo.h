// Shared by policy/ and sandbox/: results worth computing once per distinct input (a verified
// signature, a jail spec's hash), keyed by a string that names the input completely.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace clawjail {

// Thread-safe. Once it holds `capacity` entries it forgets them all: memory stays bounded and
// there is no eviction order to get wrong; a forgotten entry is only computed again.
template <class T>
class BoundedMemo {
 public:
  explicit BoundedMemo(size_t capacity) : capacity_(capacity) {}
  std::optional<T> find(const std::string& key) const {
    std::lock_guard lock(m_);
    auto it = values_.find(key);
    return it == values_.end() ? std::nullopt : std::optional<T>(it->second);
  }
  void remember(std::string key, T value) {
    std::lock_guard lock(m_);
    if (values_.size() >= capacity_) values_.clear();
    values_.insert_or_assign(std::move(key), std::move(value));
  }

 private:
  const size_t capacity_;
  mutable std::mutex m_;
  std::map<std::string, T> values_;
};

}  // namespace clawjail
