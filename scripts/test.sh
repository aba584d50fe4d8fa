#!/usr/bin/env bash
# The project's test command: installs the Debian tools the tests need when
# they are missing, then runs every Go test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use, as "command:package" (chromium for the
# web app's browser tests in cmd/ledgerd).
needs=("xmllint:libxml2-utils" "pdftotext:poppler-utils" "chromium:chromium")
missing=()
for pair in "${needs[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

go version
go vet ./...
go test -count=1 -timeout 20m "$@" ./...
# The writer and the log are where goroutines meet: run them under the race detector too.
go test -count=1 -race -timeout 10m ./eventlog/
go test -count=1 -race -timeout 10m ./ledger/ -sim.seeds 50
# Fuzz the decoders of stored bytes for a few seconds each (go test -fuzz takes one target
# at a time). A crash is saved under the package's testdata/fuzz/ and from then on runs with
# every go test: commit it with the fix. The budgets are counts of inputs, not durations:
# with a duration, Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" and no crasher when its time runs out on a loaded machine (a race in
# the coordinator, go.dev/issue/75804, fixed in Go 1.27; seen here in FuzzReplayReader).
# Each count is a few seconds of that target on this machine.
for target in "events FuzzDecode 30000" "events FuzzCanonical 30000" "projections FuzzReplayReader 100" "projections FuzzReplayResealed 100"; do
  read -r pkg fn inputs <<<"$target"
  go test -run '^$' -fuzz "^${fn}\$" -fuzztime "${inputs}x" "./${pkg}/"
done
# The seeded simulation of the writer's faults, a few thousand seeds (about a
# minute); SIM_SEEDS=20000 ./scripts/test.sh runs more. A failing seed prints
# the command that reproduces it.
go test -count=1 -timeout 30m ./ledger/ -run '^TestSimulation$' -v -sim.seeds "${SIM_SEEDS:-3000}"
