# Sourced by tests/run_all.sh (and by the test of it): runs the runners and
# adds up their closing lines. `run CMD...` runs one runner; `tally` prints
# the failures by name and the closing line `N passed, N failed`, and exits
# with the suite's status.

log=$(mktemp)
died=$(mktemp)
trap 'rm -f "$log" "$died"' EXIT
status=0
# Every runner below ends with "[label: ]N passed, N failed[, N skipped]".
summary_line='^([a-z0-9-]+: )?[0-9]+ passed, [0-9]+ failed'

# Runs one runner, tees its output into the log, and makes sure it counts:
# a runner that exits non-zero, or that ends without its own summary line
# (it died: a crash, a setup that failed), adds one failure named after it,
# so the closing line can never sum to "0 failed" while a runner failed.
run() {
  echo "== $*"
  local out
  out=$(mktemp)
  "$@" 2>&1 | tee "$out"
  local code=${PIPESTATUS[0]}
  cat "$out" >>"$log"
  local summaries counted
  summaries=$(grep -cE "$summary_line" "$out")
  counted=$(grep -E "$summary_line" "$out" | sed -E 's/^[a-z0-9-]+: //' |
    awk '{f += $3} END {print f + 0}')
  if [ "$code" -ne 0 ]; then
    echo "== FAILED ($code): $*"
    status=1
    # A runner that failed without counting a failure (or without counting
    # at all) died: count it, by name.
    if [ "$counted" -eq 0 ]; then
      echo "runner died (exit $code): $*" >>"$died"
      echo "runner-died: 0 passed, 1 failed" >>"$log"
    fi
  elif [ "$summaries" -eq 0 ]; then
    echo "runner died (no summary line): $*" >>"$died"
    echo "runner-died: 0 passed, 1 failed" >>"$log"
    status=1
  fi
  rm -f "$out"
}

tally() {
  read -r passed failed < <(grep -E "$summary_line" "$log" |
    sed -E 's/^[a-z0-9-]+: //' | awk '{p += $1; f += $3} END {print p + 0, f + 0}')
  if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
  echo
  # The failures by name, last, so that an intermittent one names itself in
  # the tail of a log: each runner's FAIL and "not ok" lines, and the runners
  # that died.
  if [ "$status" -ne 0 ]; then
    echo "== failures:"
    grep -E '^\[[^]]+\] FAIL |^not ok |^FAILED |^bench-smoke: .*exited' "$log" || true
    cat "$died"
  fi
  echo "$passed passed, $failed failed"
  exit "$status"
}
