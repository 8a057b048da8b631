#!/usr/bin/env bash
# The tests, on a fresh machine, in one command: installs the Debian packages the tests use as independent referees
# (when missing and apt-get can), then runs `dotnet test Alerts.sln -c Release` (extra arguments are passed on, e.g.
# --filter) and ends with one plain line: tests: N passed, N failed, N skipped.
#
#   kcat                reads our Kafka topics
#   prometheus          the server scrapes our metrics and evaluates our rules; promtool checks the rule files
#   python3-avro        decodes the Avro our simulator and label sink write
#   python3-onnx        checks the ONNX graphs our compressor writes
#   python3-numpy       (for the two above and below)
#   python3-sklearn     the independent Gaussian process the preprocessing is cross-checked against
#
# A test whose referee is still absent (no root, no apt-get) is skipped with the package it needs; it never fails.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

packages=(kcat prometheus python3-avro python3-onnx python3-numpy python3-sklearn)
need=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=(sudo -n)
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ "${#sudo[@]}" -gt 0 ]; }; then
    echo "test.sh: installing ${need[*]} (Debian) for the cross-checks" >&2
    "${sudo[@]}" apt-get update -q >/dev/null &&
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
      echo "test.sh: could not install ${need[*]}; the tests that need them will be skipped" >&2
  else
    echo "test.sh: ${need[*]} missing and apt-get unavailable; the tests that need them will be skipped" >&2
  fi
fi

log=$(mktemp -t alerts-test.XXXXXX.log)
set +e
dotnet test Alerts.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line summed over all test assemblies.
awk '/(Passed|Failed)!  *- *Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     /Test Run Aborted/ { a++ }
     END { printf "tests: %d passed, %d failed, %d skipped%s\n", p, f, s, (a ? sprintf(", %d test run(s) ABORTED (test host crashed)", a) : "") }' "$log"
rm -f "$log"
exit "$status"
