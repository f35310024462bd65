#!/usr/bin/env bash
# Runs every test of the project: the .NET suites (xunit, against real files, processes and PostgreSQL),
# then stages the package and runs every Pester suite against it in pwsh.
# Ends with one line: "N passed, N failed, N skipped" (xunit and Pester together).
set -uo pipefail
cd "$(dirname "$0")"

# PostgreSQL is not optional: hundreds of tests run against a real server. Say so once rather than fail each.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "PostgreSQL's server binaries are not installed (apt-get install postgresql; ./bootstrap.sh installs it)"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

log=$(mktemp)
pester_log=$(mktemp)
trap 'rm -f "$log" "$pester_log"' EXIT

dotnet test WorkbenchAdmin.sln --nologo "$@" 2>&1 | tee "$log"
dotnet_status=${PIPESTATUS[0]}

# Each test assembly ends with "Passed!  - Failed: 0, Passed: 91, Skipped: 0, Total: 91, ...".
sum() { grep -E '^(Passed|Failed)! ' "$log" | grep -oE "$1:[[:space:]]+[0-9]+" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(sum Passed); failed=$(sum Failed); skipped=$(sum Skipped)

# A build error runs no test at all: count it as a failure rather than report a clean zero.
if [ "$dotnet_status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

if command -v pwsh >/dev/null 2>&1; then
  # The same command a user types from bash (build.ps1 accepts "Package,Pester" or "Package, Pester").
  pwsh -NoProfile -NonInteractive -File ./build.ps1 -Task Package,Pester 2>&1 | tee "$pester_log"
  pester_status=${PIPESTATUS[0]}
  # Pester's own summary: "Tests Passed: 61, Failed: 0, Skipped: 0, Inconclusive: 0, NotRun: 0".
  summary=$(grep -E 'Tests Passed: [0-9]+' "$pester_log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')
  if [ -n "$summary" ]; then
    p_passed=$(grep -oE 'Passed: [0-9]+' <<<"$summary" | grep -oE '[0-9]+')
    p_failed=$(grep -oE 'Failed: [0-9]+' <<<"$summary" | grep -oE '[0-9]+')
    p_skipped=$(grep -oE 'Skipped: [0-9]+' <<<"$summary" | grep -oE '[0-9]+')
    passed=$((passed + p_passed)); failed=$((failed + p_failed)); skipped=$((skipped + p_skipped))
    if [ "$pester_status" -ne 0 ] && [ "$p_failed" -eq 0 ]; then failed=$((failed + 1)); fi
  else
    echo "Pester: no summary line (the package did not build or Pester did not run)"
    failed=$((failed + 1))
  fi
else
  echo "Pester: pwsh is not installed (./bootstrap.sh installs it); the Pester suites did not run."
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$dotnet_status" -eq 0 ] && [ "$failed" -eq 0 ]
