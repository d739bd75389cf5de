#!/usr/bin/env bash
# Runs the whole test suite in the project's virtual environment, then says whether the host tests ran.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit -x`).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CIRCLE_ROTATE_VENV:-$repo/.venv}"
report="$(mktemp)"
rm -f "$report"
export CIRCLE_ROTATE_HOST_REPORT="$report"

cd "$repo"
# Without a test path among the arguments, run the whole suite (tests/ holds the pytest configuration).
has_path=0
for argument in "$@"; do
    if [[ "$argument" != -* && -e "$argument" ]]; then has_path=1; fi
done
if [[ "$has_path" == 0 ]]; then set -- "$@" tests; fi
"$venv/bin/python" -m pytest "$@"
status=$?

if [[ -f "$report" ]]; then
    "$venv/bin/python" - "$report" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
if report["ran"] > 0:
    print(f"host tests: ran {report['ran']}")
else:
    print(f"host tests: skipped ({report['reason']})")
EOF
else
    echo "host tests: skipped (pytest did not write a host report)"
fi
rm -f "$report"
# pytest's exit code 5 means no tests were collected: that is a failure for us too.
exit "$status"
