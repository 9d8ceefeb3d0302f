# Sourced by the tests that run a command under exactly a unit's CapabilityBoundingSet.
# bounding_set CAP_X…: setpriv's --bounding-set form, -all,+x,…
bounding_set() {
  local out=-all c
  for c in "$@"; do c=${c#CAP_}; out+=",+${c,,}"; done
  echo "$out"
}
