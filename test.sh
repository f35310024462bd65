#!/usr/bin/env bash
# Runs every test of the project: the .NET suites (xunit, against real files, processes and PostgreSQL),
# then the Pester suites where pwsh exists. Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet test WorkbenchAdmin.sln --nologo "$@" 2>&1 | tee "$log"
dotnet_status=${PIPESTATUS[0]}

# Each test assembly ends with "Passed!  - Failed: 0, Passed: 91, Skipped: 0, Total: 91, ...".
sum() { grep -E '^(Passed|Failed)! ' "$log" | grep -oE "$1:[[:space:]]+[0-9]+" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(sum Passed); failed=$(sum Failed); skipped=$(sum Skipped)

# A build error runs no test at all: count it as a failure rather than report a clean zero.
if [ "$dotnet_status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

pester_files=$(find module -name '*.Tests.ps1' | sort)
pester_count=$(printf '%s\n' "$pester_files" | grep -c . || true)
if command -v pwsh >/dev/null 2>&1; then
  if ! pwsh -NoProfile -NonInteractive -File ./build.ps1 -Task Package,Pester; then failed=$((failed + 1)); fi
else
  echo "Pester: skipped $pester_count file(s) — pwsh is not installed on this machine; they run where it is (./build.ps1 -Task Pester)."
  skipped=$((skipped + pester_count))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$dotnet_status" -eq 0 ] && [ "$failed" -eq 0 ]
