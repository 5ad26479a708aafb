#!/usr/bin/env bash
# Runs groundtruth's benchmarks and writes docs/benchmarks.md with the
# machine and the command, so that numbers can be compared run to run.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
# Every package's benchmarks but the hash index's, which has its own run
# below (building 10^7 hashes takes a while).
pkgs=$(go list ./internal/... | grep -v /media/index)
cmd="go test -run '^\$' -bench . -benchmem -count 3 \$(go list ./internal/... | grep -v /media/index)"
go test -run '^$' -bench . -benchmem -count 3 $pkgs | tee "$out"
# The hash index: queries per second at 10^6 and 10^7 stored hashes, each
# query the 8 dihedral variants of a hash, at distance 31; then the full
# exactness check, 10^5 queries against 10^6 hashes with planted
# near-duplicates, compared with brute force.
cmdindex="go test -run '^\$' -bench BenchmarkSearch -benchtime 3s -count 1 -timeout 60m ./internal/media/index"
eval "$cmdindex" | tee "$out.index"
cmdexact="GROUNDTRUTH_INDEX_FULL=1 go test -run TestPlanted -count 1 -v -timeout 60m ./internal/media/index"
eval "$cmdexact" | tee "$out.exact"
# Matching quality on the evaluation photographs (scripts/evalset.sh).
evalset=${GROUNDTRUTH_EVALSET:-$HOME/.cache/groundtruth/evalset}
./scripts/evalset.sh "$evalset"
cmdeval="GROUNDTRUTH_EVALSET=$evalset GROUNDTRUTH_EVALSET_REQUIRED=1 GROUNDTRUTH_EVAL_REPORT=FILE go test -run TestEvaluation -count 1 ./internal/media/match"
GROUNDTRUTH_EVALSET="$evalset" GROUNDTRUTH_EVALSET_REQUIRED=1 GROUNDTRUTH_EVAL_REPORT="$out.eval" \
  go test -run TestEvaluation -count 1 ./internal/media/match
# verify's audit of a log of a million leaves (building the log takes a
# minute or two and is not timed).
cmd1m="GROUNDTRUTH_BENCH_LEAVES=1000000 go test -run '^\$' -bench BenchmarkCheckLog -benchtime 1x -count 1 ./internal/ledger"
eval "$cmd1m" | tee -a "$out"
# Parser memory: analysing a 7000×7000 16-bit PNG bomb, and parsing and
# loading a generated 63 MiB case file (peak heap and peak RSS).
cmdpng="go test -run TestAnalyseLargePNGBoundedMemory -count 1 -v ./internal/media"
eval "$cmdpng" | tee "$out.parsers"
cmdcase="GROUNDTRUTH_CASEFILE_MIB=63 go test -run TestLoadLargeCase -count 1 -v -timeout 60m ./internal/casefile"
eval "$cmdcase" | tee -a "$out.parsers"
# The web load test: 100 concurrent readers for 30 s against 100 000
# generated incidents (generation is not timed).
cmdload="GROUNDTRUTH_LOAD=1 go test -run TestLoad -count 1 -v -timeout 30m ./internal/web"
eval "$cmdload" | tee "$out.load"

# A capture of a hostile page (gzip and pixel bombs, endless bodies) with
# the default limits: its time and peak memory, measured from /proc.
cmdcap="GROUNDTRUTH_CAPTURE_BENCH=1 go test -run TestCaptureHostilePage -count 1 -v ./internal/capture"
eval "$cmdcap" | tee "$out.capture"
# Sign-in under attack: 200 parallel wrong sign-ins against a loopback
# server, its peak memory against the ceiling documented in docs/web.md.
cmdsignin="go test -run TestSignInMemoryCeiling -count 1 -v ./internal/web"
eval "$cmdsignin" | tee "$out.signin"
# Start-up cost: every command pays it (make bench builds bin/groundtruth).
cmdstart="/usr/bin/time -f '%e s, %M KiB' bin/groundtruth help"
for _ in 1 2 3; do eval "$cmdstart" 2>&1 >/dev/null | tail -n1; done | tee "$out.start"

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
  echo "- commands: \`$cmd\`, then \`$cmd1m\`, then \`$cmdload\`, then \`$cmdindex\`, \`$cmdexact\`, \`$cmdeval\` and \`$cmdcap\`"
  echo
  echo "What each measures:"
  echo
  echo "- \`BenchmarkIngest\`: one acknowledged ingest of a new 4 KiB file (locker write with fsyncs, one durable SQLite transaction). ops/s is ingests per second."
  echo "- \`BenchmarkPut1MiB\`: storing a new 1 MiB original in the locker."
  echo "- \`BenchmarkCheck1MiB\`: re-hashing a stored 1 MiB original, the unit of work of \`verify\`."
  echo "- \`BenchmarkParseDemo\`: parsing and validating the built-in case file."
  echo "- \`BenchmarkReloadDemo\`: loading the built-in case into a database that already holds it."
  echo "- \`BenchmarkAppend\`: appending 20 000 leaves to the ledger with batching (Tessera POSIX, batches of up to 256, up to 4 096 outstanding), until a signed checkpoint covers them. Target: at least 5 000 entries/s."
  echo "- \`BenchmarkHashJPEG\`: photos hashed per second from the bytes of a 1 MP JPEG (a real photograph), decoding included, on every core: \`pdq\` the plain hash, \`dihedral\` its eight variants, \`stored\` everything groundtruth keeps for a photo, \`query\` everything it looks up. Target: at least 40 images/s for \`pdq\`."
  echo "- \`BenchmarkHash\` (video): a 20-second sample video hashed at 1 frame per second (ffmpeg decoding included), and at 30."
  echo "- \`BenchmarkCompare\` (video): vPDQ comparison of every frame of two sample videos."
  echo "- \`BenchmarkCropScore\`, \`BenchmarkNewCropQuery\`, \`BenchmarkVerifyCrop\`: the crop stage: scoring one stored thumbnail (ns/thumb), preparing a query, aligning one candidate original. \`BenchmarkDecodeUpright\`/\`BenchmarkDecodeOrient\`: decoding a 12 MP JPEG, and turning it upright by its EXIF orientation."
  echo "- \`BenchmarkCheckLog\`: the log audit of \`verify\` (every archived checkpoint's signature, the tree recomputed from every entry, every tile re-derived) at 100 000 leaves, and at 1 000 000 leaves in the last run. Target: 10^6 leaves in at most 20 s."
  echo
  echo '```'
  grep -E '^(Benchmark|goos|goarch|pkg|cpu)' "$out"
  echo '```'
  echo
  echo "## Hash index"
  echo
  echo "Queries per second (8 needles: a hash and its 7 dihedral variants; distance ≤ 31) at 10^6 and 10^7"
  echo "stored hashes, random and clustered (noisy copies of 1 000 centres), for the linear scan and multi-index"
  echo "hashing. Target: at least 1 000 queries/s at 10^7. Then the exactness check against brute force."
  echo
  echo '```'
  grep -E '^(Benchmark|cpu)' "$out.index"
  grep -E '^(---|ok|FAIL|    )' "$out.exact" | head -20
  echo '```'
  echo
  echo "## Matching quality"
  echo
  echo "Recall per edit on the evaluation set (real photographs from Debian packages, listed in"
  echo "internal/media/match/testdata/evalset.tsv; see docs/media.md), for plain PDQ (with its dihedral"
  echo "variants) and for groundtruth; wrong = matches to another photograph. Targets: at least 90 % on"
  echo "every edit, 95 % overall, no wrong match."
  echo
  cat "$out.eval"
  echo
  echo "## Parser memory"
  echo
  echo "Peak memory of the parsers of outside data on hostile or large input: \`$cmdpng\` analyses a"
  echo "7000 × 7000 16-bit RGBA PNG of about 400 KB (392 MB of pixels for image/png); \`$cmdcase\`"
  echo "parses and loads a generated 63 MiB case file (actors, places, incidents, assessments, one"
  echo "placeholder per 50 incidents). Peak heap is sampled with the collector at GOGC 10; peak RSS is"
  echo "the test process's VmHWM. Targets: the PNG within 64 MiB of heap; the case file within 28 times"
  echo "its size at the peak (TestParseMemoryFollowsFileSize)."
  echo
  echo '```'
  grep -E '(analyse|casefile): ' "$out.parsers" | sed 's/^ *[a-z_]*\.go:[0-9]*: //'
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
  echo
  echo "## Capture of a hostile page"
  echo
  echo "One capture, default limits, of a page with eight gzip bombs (1 GiB of zeros each, 1 MB on the wire,"
  echo "sent as image/png), a 20000 × 20000 PNG, an image trickling a byte every 2 s and a frame that never"
  echo "answers. Peak resident memory of the Go process and Chromium's processes, sampled from /proc every"
  echo "50 ms, against capture.MemoryCeiling (docs/capture.md)."
  echo
  echo '```'
  grep -E '^capture-memory:' "$out.capture"
  echo '```'
  echo
  echo "## Sign-in under attack"
  echo
  echo "200 wrong sign-ins sent at once to a loopback server, from one address and from 200 addresses behind"
  echo "a trusted proxy; peak memory held by the Go runtime (mapped and not returned to the system, sampled"
  echo "every millisecond) against the ceiling of docs/web.md: 2·(baseline + N·64 MiB) + N·64 MiB + 32 MiB, N password"
  echo "checks at once (\`--password-checks\`, here the default). Command: \`$cmdsignin\`."
  echo
  echo '```'
  grep -oE '200 parallel wrong sign-ins.*' "$out.signin"
  echo '```'
  echo
  echo "Before sign-in was bounded, the same 200 attempts were all checked at once (200 × 64 MiB): under"
  echo "\`ulimit -v 3000000\` the test process died with \`fatal error: out of memory\` at 1.2 GiB."
  echo
  echo "Start-up: \`$cmdstart\`, three runs (elapsed, maximum resident). When the web package computed"
  echo "its dummy password hash as it loaded, this took 1.86–2.00 s and 81 MiB on the machine above."
  echo
  echo '```'
  cat "$out.start"
  echo '```'
} > docs/benchmarks.md
rm -f "$out" "$out.load" "$out.index" "$out.exact" "$out.eval" "$out.capture" "$out.parsers" "$out.signin" "$out.start"
echo "wrote docs/benchmarks.md"
