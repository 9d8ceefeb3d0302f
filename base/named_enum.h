// Enums that are typed inside clawjail and written as stable strings only at the JSON edge
// (receipts, the socket protocol, the journal). Each enum lists its names once, in order:
//   template <> struct EnumNames<Verdict> { static constexpr std::array<std::string_view, 2> names{"allowed", "blocked"}; };
#pragma once
#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string_view>
#include <type_traits>

namespace clawjail {

template <class E>
struct EnumNames;

template <class E>
concept NamedEnum = std::is_enum_v<E> && requires { EnumNames<E>::names.size(); };

// The stable name, e.g. "blocked".
template <NamedEnum E>
constexpr std::string_view name_of(E e) {
  return EnumNames<E>::names[static_cast<size_t>(e)];
}

// The inverse of name_of; nullopt for a string that is not on the list (strict, case-sensitive).
template <NamedEnum E>
constexpr std::optional<E> from_name(std::string_view name) {
  for (size_t i = 0; i < EnumNames<E>::names.size(); ++i)
    if (EnumNames<E>::names[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

// The name, for logs and test messages.
template <NamedEnum E>
std::ostream& operator<<(std::ostream& out, E e) {
  return out << name_of(e);
}

}  // namespace clawjail
