#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (make test-e2e) when it is missing. Playwright drives it
# (executable_path); Playwright's own browser download is never used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "Installing Chromium from Debian..." >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
