#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on a Debian machine that has the .NET SDK: both README
# commands and .ci/run start with it. Idempotent: where everything is there it prints nothing and exits 0.
# It never starts a system service (nginx and apache2 would take port 80; the tests run their own).
# Not root and something missing: it prints the one command to run as root and exits 1.
# --check: install nothing; list what is missing (one line each: package, then who needs it) and exit 1 if anything is.
set -euo pipefail
check_only=
[ "${1:-}" = --check ] && check_only=1
here=$(cd "$(dirname "$0")" && pwd)

# What is looked for (a path pattern or a command; several separated by spaces: any of them), the Debian package
# that brings it, and who needs it.
requirements=(
  "clang gcc|gcc|NativeAOT links the balancer program with the platform's C toolchain, which also builds its client"
  "/usr/lib/*/libc.a|libc6-dev|the balancer's client is linked statically (no dynamic loader at every call)"
  "/usr/bin/promtool|prometheus|promtool check metrics over the decision service's metrics"
  "/usr/lib/postgresql/*/bin/initdb|postgresql|every store test and the demo start a throwaway PostgreSQL server"
  "python3|python3|custom balancer scripts and the network-namespace listeners"
  "git|git|the newcomer test clones the repository"
  "ip|iproute2|the network-namespace cluster"
  "unshare|util-linux|the network-namespace cluster (unshare, nsenter) and unprivileged test servers (setpriv, runuser)"
  "/usr/lib/*/faketime/libfaketimeMT.so.1|faketime|a node whose clock runs ahead (netns scenario 4)"
  "/usr/bin/systemd-analyze|systemd|systemd-analyze verify over the units we ship (nothing is started)"
  "/usr/bin/chromium|chromium|rendering Measure-WbBalancer's HTML report"
  "/usr/sbin/nginx|nginx|the load balancer tests run the real proxies"
  "/usr/sbin/haproxy|haproxy|the load balancer tests run the real proxies"
  "/usr/sbin/apache2|apache2|the load balancer tests run the real proxies"
)

present() {
  local one
  for one in $1; do
    case "$one" in
      /*) compgen -G "$one" >/dev/null && return 0 ;;
      *) command -v "$one" >/dev/null 2>&1 && return 0 ;;
    esac
  done
  return 1
}

if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | awk -F. '$1 >= 10 { ok = 1 } END { exit !ok }'; then
  echo "bootstrap: the .NET SDK 10 or later is needed (dotnet on PATH; https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi

missing=()
for r in "${requirements[@]}"; do
  IFS='|' read -r what package why <<<"$r"
  present "$what" && continue
  missing+=("$package")
  [ -n "$check_only" ] && echo "$package: $why"
done

# pwsh 7.4+ with Pester 5 and PSScriptAnalyzer: from shared/ beside the checkout where that exists (a build from
# source), else Microsoft's Debian repository and PSResourceGet.
pwsh_installer=$here/../shared/tools/install-pwsh.sh
need_pwsh=
if ! command -v pwsh >/dev/null 2>&1; then
  need_pwsh=1
elif ! pwsh -NoProfile -NonInteractive -c 'if ($PSVersionTable.PSVersion -lt [version]"7.4" -or -not (Get-Module -ListAvailable Pester | Where-Object Version -ge "5.0") -or -not (Get-Module -ListAvailable PSScriptAnalyzer)) { exit 1 }'; then
  echo "bootstrap: pwsh is older than 7.4 or lacks Pester 5 / PSScriptAnalyzer; in pwsh 7.4+: Install-PSResource Pester, PSScriptAnalyzer -TrustRepository" >&2
  exit 1
fi
if [ -n "$need_pwsh" ] && [ ! -f "$pwsh_installer" ]; then
  cat >&2 <<'EOF'
bootstrap: pwsh 7.4+ is not installed. On Debian 12, as root:
  curl -fsSLo /tmp/ms.deb https://packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb && dpkg -i /tmp/ms.deb && apt-get update && apt-get install -y powershell
  pwsh -NoProfile -c 'Install-PSResource Pester, PSScriptAnalyzer -TrustRepository -Scope AllUsers'
then run this again.
EOF
  exit 1
fi

[ -n "$check_only" ] && [ -n "$need_pwsh" ] && echo "pwsh: the build, the demo and the Pester suites"
[ ${#missing[@]} -eq 0 ] && [ -z "$need_pwsh" ] && exit 0
[ -n "$check_only" ] && exit 1

if [ "$(id -u)" -ne 0 ]; then
  what=("${missing[@]}"); [ -n "$need_pwsh" ] && what+=(pwsh)
  echo "bootstrap: missing: ${what[*]}. Install as root with:" >&2
  echo "  sudo $here/$(basename "$0")" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]} (apt-get)"
  # Debian starts a package's service on install unless policy-rc.d says no.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -n "$need_pwsh" ]; then
  echo "bootstrap: installing pwsh with Pester and PSScriptAnalyzer ($pwsh_installer)"
  bash "$pwsh_installer"
fi
