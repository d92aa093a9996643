#!/usr/bin/env bash
# Slither over brownie's build artifacts, and ERC-20 (and ERC-2612) conformance of SocialCoin.
#
#   bash tools/slither.sh          (`make lint` runs it after creating .tools/lint)
#
# Fails (exit 1) when Slither reports any finding of high or medium impact outside node_modules and
# contracts/baseline (slither.config.json), or when slither-check-erc reports a missing or wrong
# ERC-20/ERC-2612 function or event. Lower findings are printed, not fatal. A finding we keep is
# marked at its line with `// slither-disable-next-line <detector>` and listed in docs/contracts.md.
#
# Slither cannot drive our solc stand-in (it asks solc for --combined-json), so it reads brownie's
# artifacts (--compile-force-framework brownie --brownie-ignore-compile). It needs every source's
# artifact, but brownie deletes the artifacts of indirectly used libraries (SafeCast, Math, ...) from
# build/ each time it loads the project, and Slither then fails with "SafeCast.sol does not exist".
# So this script compiles a copy of the sources with `brownie compile --all` in a scratch folder
# and analyses that; build/ stays as it is (tests running beside this are not disturbed).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lint_bin="${SLITHER_BIN:-$root/.tools/lint/bin}"
brownie="${BROWNIE:-$root/.venv/bin/brownie}"
export SOLCX_BINARY_PATH="${SOLCX_BINARY_PATH:-$root/.solcx}"

for tool in "$lint_bin/slither" "$lint_bin/slither-check-erc" "$lint_bin/python" "$brownie"; do
  if [ ! -x "$tool" ]; then
    echo "slither.sh: $tool is missing: run 'make setup' and 'make lint' (it creates .tools/lint)" >&2
    exit 2
  fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/socialcoin-slither.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -R "$root/contracts" "$root/interfaces" "$root/brownie-config.yaml" "$work/"
ln -s "$root/node_modules" "$work/node_modules"

echo "== brownie compile --all (scratch copy for Slither)"
(cd "$work" && "$brownie" compile --all >"$work/compile.log" 2>&1) || {
  cat "$work/compile.log" >&2
  echo "slither.sh: brownie could not compile the contracts" >&2
  exit 2
}

status=0

echo "== Slither"
# --fail-none: the exit code is decided below from the JSON, by impact.
(cd "$work" && "$lint_bin/slither" . --compile-force-framework brownie --brownie-ignore-compile \
  --config-file "$root/slither.config.json" --fail-none --json "$work/slither.json" 2>&1) || {
  echo "slither.sh: Slither did not run" >&2
  exit 2
}
"$lint_bin/python" - "$work/slither.json" <<'PY' || status=1
import json
import sys

report = json.load(open(sys.argv[1]))
if not report.get("success"):
    sys.exit(f"Slither failed: {report.get('error')}")
serious = [
    finding
    for finding in report.get("results", {}).get("detectors", [])
    if finding["impact"] in ("High", "Medium")
]
if not serious:
    print("Slither: no high or medium findings.")
    sys.exit(0)
print(f"\nSlither: {len(serious)} high/medium finding(s):")
for finding in serious:
    print(f"\n[{finding['impact']}/{finding['confidence']}] {finding['check']}")
    print(finding["description"].rstrip())
sys.exit(1)
PY

for erc in erc20 erc2612; do
  echo "== slither-check-erc SocialCoin $erc"
  (cd "$work" && "$lint_bin/slither-check-erc" . SocialCoin --erc "$erc" --compile-force-framework brownie \
    --brownie-ignore-compile --json "$work/$erc.json" 2>&1) || {
    echo "slither.sh: slither-check-erc did not run" >&2
    exit 2
  }
  "$lint_bin/python" - "$work/$erc.json" "$erc" <<'PY' || status=1
import json
import sys

# Advice rather than conformance: OpenZeppelin 5 dropped increaseAllowance; wallets use permit.
ADVISORY = {"lack_of_erc20_race_condition_protection"}

report = json.load(open(sys.argv[1]))
erc = sys.argv[2].upper()
if not report.get("success"):
    sys.exit(f"slither-check-erc failed: {report.get('error')}")
problems = {
    kind: items for kind, items in report.get("results", {}).get("erc-conformance", {}).items() if items
}
failures = {kind: items for kind, items in problems.items() if kind not in ADVISORY}
for kind in sorted(set(problems) - set(failures)):
    print(f"note ({kind}): advisory, not a conformance failure")
if not failures:
    print(f"SocialCoin conforms to {erc} (functions, return types, views, events).")
    sys.exit(0)
print(f"SocialCoin does not conform to {erc}:")
for kind, items in sorted(failures.items()):
    for item in items:
        print(f"  {kind}: {item.get('description', item).strip()}")
sys.exit(1)
PY
done

if [ "$status" -ne 0 ]; then
  echo "slither.sh: FAILED (see above)" >&2
fi
exit "$status"
