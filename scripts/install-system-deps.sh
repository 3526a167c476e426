#!/usr/bin/env bash
# Installs the Debian packages Clare's tests, benchmarks and demo need:
#   tmux         — behind the rclaude stand-in (test/fixtures/rclaude)
#   chromium     — the real browser for dashboard tests (driven by playwright-core)
#   wireguard-go, wireguard-tools, iproute2 — the mesh tests between network namespaces
#   systemd      — systemd-analyze, to verify the unit (works without a running systemd)
#   util-linux   — setpriv, to run the daemon with no-new-privileges as the unit does
#   faketime     — libfaketime, which steps a daemon's clock in the fault campaign (npm run torture)
# Idempotent: does nothing when everything is present. Run by the pretest, prebench and
# predemo, pretorture and presoak steps of package.json, so the README's two commands need nothing else.
set -euo pipefail

need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v wireguard-go >/dev/null 2>&1 || need+=(wireguard-go)
command -v wg >/dev/null 2>&1 || need+=(wireguard-tools)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v faketime >/dev/null 2>&1 || need+=(faketime)

if ((${#need[@]} == 0)); then
  echo "install-system-deps: all present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-system-deps: done"
