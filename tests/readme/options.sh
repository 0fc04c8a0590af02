#!/usr/bin/env bash
# README's Configuration table against `streamq --help`: every option --help
# lists has a row and every row an option, with the same variable and the same
# default. A default of "" in --help is written "empty…" or "none" in the
# table; any other must begin the table's cell ("0: none" for "0").
# Usage: options.sh STREAMQ_BINARY README.md
set -euo pipefail
bin="$1" readme="$2"

# --help: "  --flag   VAR" then an indented description ending in (default: "X").
help_rows="$("$bin" --help 2>&1 | awk '
  /^  --[a-z-]+ +STREAMQ_[A-Z_]+$/ { if (flag) print flag "\t" var "\t" def; flag = $1; var = $2; def = "(none)"; next }
  flag && /\(default: "/ { s = $0; sub(/.*\(default: "/, "", s); sub(/"\)[[:space:]]*$/, "", s); def = s }
  END { if (flag) print flag "\t" var "\t" def }')"
[ -n "$help_rows" ] || { echo "options: --help listed no options" >&2; exit 1; }

# The table: the rows of "## Configuration" whose first cell is a `--flag`.
table_rows="$(awk '
  /^## / { inside = ($0 == "## Configuration") }
  inside && /^\| `--/ {
    n = split($0, cell, "|")
    for (i = 2; i <= 4; i++) { gsub(/^[[:space:]]+|[[:space:]]+$/, "", cell[i]); gsub(/`/, "", cell[i]) }
    print cell[2] "\t" cell[3] "\t" cell[4]
  }' "$readme")"
[ -n "$table_rows" ] || { echo "options: README.md has no Configuration table" >&2; exit 1; }

fail=0
while IFS=$'\t' read -r flag var def; do
  row="$(awk -F'\t' -v f="$flag" '$1 == f' <<<"$table_rows")"
  if [ -z "$row" ]; then
    echo "options: $flag ($var) is in --help but not in README's Configuration table" >&2
    fail=1
    continue
  fi
  IFS=$'\t' read -r _ tvar tdef <<<"$row"
  case " $tvar " in
    *" $var "*) ;;
    *) echo "options: $flag: README names variable '$tvar', --help $var" >&2; fail=1 ;;
  esac
  if [ "$def" = "(none)" ]; then
    : # --help states no default (--config): the table's cell is free text
  elif [ -z "$def" ]; then
    case "$tdef" in empty* | none*) ;; *) echo "options: $flag: README default '$tdef', --help none" >&2; fail=1 ;; esac
  else
    case "$tdef" in
      "$def" | "$def:"* | "$def "*) ;;
      *) echo "options: $flag: README default '$tdef', --help '$def'" >&2; fail=1 ;;
    esac
  fi
done <<<"$help_rows"
while IFS=$'\t' read -r flag _; do
  awk -F'\t' -v f="$flag" '$1 == f { found = 1 } END { exit !found }' <<<"$help_rows" ||
    { echo "options: README's Configuration table has $flag, which --help does not list" >&2; fail=1; }
done <<<"$table_rows"
[ "$fail" = 0 ] || exit 1
echo "options: $(wc -l <<<"$help_rows") options of --help match README's Configuration table"
