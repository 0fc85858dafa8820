#!/usr/bin/env bash
# The man page names every command and subcommand the binary's --help lists (in its SYNOPSIS,
# as "opsmaturity CMD [SUB]"), so that a new command cannot ship undocumented.
# Usage: man_test.sh BINARY MAN_PAGE
set -euo pipefail
bin=$1
page=$2
subcommands() { "$@" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }'; }
missing=0
for cmd in $(subcommands "$bin"); do
  subs=$(subcommands "$bin" "$cmd")
  if [ -z "$subs" ]; then
    names=("$cmd")
  else
    names=()
    for s in $subs; do names+=("$cmd $s"); done
  fi
  for n in "${names[@]}"; do
    # In the page's SYNOPSIS: .B opsmaturity <cmd> [<sub>]
    if ! grep -qx "\.B opsmaturity $n" "$page"; then
      echo "not in $page: opsmaturity $n" >&2
      missing=1
    fi
  done
done
exit $missing
