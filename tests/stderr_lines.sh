# Sourced by the CLI test scripts. stderr_lines FILE: the lines of a dcp run's stderr that are
# dcp's own. Under ASan (scripts/sanitize) SystemC's coroutines switch stacks, and the first
# exception thrown after a simulation makes ASan print a three-line warning of its own about it.
stderr_lines() {
  grep -v -e '^==[0-9]*==WARNING: ASan is ignoring requested __asan_handle_no_return' \
    -e '^False positive error reports may follow$' \
    -e '^For details see https://github.com/google/sanitizers/issues/189$' "$1"
}
