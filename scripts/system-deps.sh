#!/usr/bin/env bash
# Make sure the Debian packages a target needs are present.
#   scripts/system-deps.sh venv      python3 -m venv works (python3-venv)
#   scripts/system-deps.sh browser   chromium and chromedriver (chromium, chromium-driver)
#   scripts/system-deps.sh redis     redis-server (for the Celery sweep test)
# As root with apt-get, missing packages are installed; otherwise it stops and says what
# to install.
set -euo pipefail
missing=()
for what in "$@"; do
  case "$what" in
    venv) python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv python3-pip) ;;
    browser)
      command -v chromium >/dev/null 2>&1 || missing+=(chromium)
      command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver) ;;
    redis) command -v redis-server >/dev/null 2>&1 || missing+=(redis-server) ;;
    *) echo "system-deps.sh: unknown requirement '$what'" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Missing system packages: ${missing[*]}." >&2
  echo "Install them (as root): apt-get install ${missing[*]}" >&2
  exit 1
fi
