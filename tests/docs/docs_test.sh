#!/usr/bin/env bash
# The project's reference docs against the code: every document a source comment cites exists
# with the section, § and check it names (doc_refs.mjs), and every flag of every subcommand of the
# built binary is in docs/cli.md. Usage: docs_test.sh SOURCE_DIR CLAWJAIL NODE
set -euo pipefail
src=$1 clawjail=$2 node=${3:-}
fail() { echo "docs_test: $*" >&2; exit 1; }
[ -x "$node" ] || fail "no Node found (scripts/install-deps.sh installs nodejs)"
"$node" "$src/tests/docs/doc_refs.mjs" "$src"

# Each subcommand, from the top-level help and each group's own help.
commands=()
for c in $("$clawjail" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}'); do
  subs=$("$clawjail" "$c" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}')
  if [ -z "$subs" ]; then commands+=("$c"); else for s in $subs; do commands+=("$c $s"); done; fi
done
[ "${#commands[@]}" -ge 15 ] || fail "found only ${#commands[@]} subcommands in clawjail --help"
missing=0
for c in "${commands[@]}"; do
  grep -qF "#### \`clawjail $c\`" "$src/docs/cli.md" || { echo "docs/cli.md: no section for clawjail $c" >&2; missing=1; continue; }
  # The flags in that command's section (up to the next ####) must include every flag of --help.
  section=$(awk -v h="#### \`clawjail $c\`" '$0 == h {on=1; next} on && /^#### /{exit} on' "$src/docs/cli.md")
  # shellcheck disable=SC2086
  for flag in $("$clawjail" $c --help | grep -oE '^  (-[a-z],)?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | grep -vx -- '--help'); do
    grep -qE -- "[\`,]$flag([^a-z0-9-]|\$)" <<<"$section" || { echo "docs/cli.md: clawjail $c: $flag is not documented" >&2; missing=1; }
  done
done
[ "$missing" = 0 ] || fail "docs/cli.md does not match clawjail --help (regenerate its tables from --help)"
echo "docs/cli.md documents every flag of ${#commands[@]} subcommands"
