// JSON values: nlohmann::json as every library uses it, and raw bytes.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>
#include <vector>

namespace clawjail::policy {

using Json = nlohmann::json;
using Bytes = std::vector<uint8_t>;

namespace detail {
template <class T>
struct IsVector : std::false_type {};
template <class U, class A>
struct IsVector<std::vector<U, A>> : std::true_type {};
template <class T>
struct IsMap : std::false_type {};
template <class K, class U, class C, class A>
struct IsMap<std::map<K, U, C, A>> : std::true_type {};
}  // namespace detail

// Whether `v` is a T as it stands, in every element too: nlohmann's get<T>() silently reads a
// boolean as the integer 0 or 1 and cuts an integer to fit a narrower type (2^32 + 1 as an int
// is 1), so an integer field checks this before get<T>(). Other mismatches get<T>() refuses itself.
template <class T>
bool holds_exactly(const Json& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean();
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_number_unsigned()) return std::in_range<T>(v.get<uint64_t>());
    return v.is_number_integer() && std::in_range<T>(v.get<int64_t>());
  } else if constexpr (detail::IsVector<T>::value) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!holds_exactly<typename T::value_type>(e)) return false;
    return true;
  } else if constexpr (detail::IsMap<T>::value) {
    if (!v.is_object()) return false;
    for (const auto& e : v)
      if (!holds_exactly<typename T::mapped_type>(e)) return false;
    return true;
  } else {
    return true;
  }
}

}  // namespace clawjail::policy
