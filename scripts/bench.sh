#!/usr/bin/env bash
# Runs groundtruth's benchmarks and writes docs/benchmarks.md with the
# machine and the command, so that numbers can be compared run to run.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
cmd="go test -run '^\$' -bench . -benchmem -count 3 ./internal/..."
eval "$cmd" | tee "$out"
# verify's audit of a log of a million leaves (building the log takes a
# minute or two and is not timed).
cmd1m="GROUNDTRUTH_BENCH_LEAVES=1000000 go test -run '^\$' -bench BenchmarkCheckLog -benchtime 1x -count 1 ./internal/ledger"
eval "$cmd1m" | tee -a "$out"
# The web load test: 100 concurrent readers for 30 s against 100 000
# generated incidents (generation is not timed).
cmdload="GROUNDTRUTH_LOAD=1 go test -run TestLoad -count 1 -v -timeout 30m ./internal/web"
eval "$cmdload" | tee "$out.load"

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh). Tests assert correctness only; speed lives here."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores${cpu:+, $cpu}, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory, $(uname -sr)"
  echo "- disk: $(df -h . | awk 'NR==2 {print $1}')"
  echo "- go: $(go version | cut -d' ' -f3-)"
  echo "- commands: \`$cmd\`, then \`$cmd1m\`, then \`$cmdload\`"
  echo
  echo "What each measures:"
  echo
  echo "- \`BenchmarkIngest\`: one acknowledged ingest of a new 4 KiB file (locker write with fsyncs, one durable SQLite transaction). ops/s is ingests per second."
  echo "- \`BenchmarkPut1MiB\`: storing a new 1 MiB original in the locker."
  echo "- \`BenchmarkCheck1MiB\`: re-hashing a stored 1 MiB original, the unit of work of \`verify\`."
  echo "- \`BenchmarkParseDemo\`: parsing and validating the built-in case file."
  echo "- \`BenchmarkReloadDemo\`: loading the built-in case into a database that already holds it."
  echo "- \`BenchmarkAppend\`: appending 20 000 leaves to the ledger with batching (Tessera POSIX, batches of up to 256, up to 4 096 outstanding), until a signed checkpoint covers them. Target: at least 5 000 entries/s."
  echo "- \`BenchmarkCheckLog\`: the log audit of \`verify\` (every archived checkpoint's signature, the tree recomputed from every entry, every tile re-derived) at 100 000 leaves, and at 1 000 000 leaves in the last run. Target: 10^6 leaves in at most 20 s."
  echo
  echo '```'
  grep -E '^(Benchmark|goos|goarch|pkg|cpu)' "$out"
  echo '```'
  echo
  echo "## Web load test"
  echo
  echo "100 concurrent readers for 30 s, each request one of: a page of the incident list, an incident page,"
  echo "a page of the API's incident list, one incident from the API, against 100 000 generated incidents."
  echo "Target: zero errors."
  echo
  echo '```'
  grep -E '^load:' "$out.load"
  echo '```'
} > docs/benchmarks.md
rm -f "$out" "$out.load"
echo "wrote docs/benchmarks.md"
