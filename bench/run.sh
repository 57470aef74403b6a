#!/usr/bin/env bash
# Reproduces the numbers in BENCHMARKS.md:  bash bench/run.sh [LINES]
#
# For each workload (default v2 format; every v2-v5 field) it generates LINES
# (default 1,000,000) deterministic records, then measures
#   native:    the flowlog parser in-process (examples/throughput.rs), median of 7
#   component: the whole `flowtag` path (reader thread, batching, the wasm
#              component, NDJSON to /dev/null), one worker, 7 runs; reported
#              as the median of flowtag's own rate (processing only, after the
#              component is compiled) and the median wall time of the process.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=7
work=${BENCH_DIR:-target/bench}
mkdir -p "$work"

cargo build --release -q -p flowtag
cargo build --release -q -p flowlog --example throughput --example generate
flowtag=target/release/flowtag
gen=target/release/examples/generate
v5_format=$("$gen" v5-format)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure FILE ARGS…: one worker, $runs runs; prints "RATE WALL", the
# medians of flowtag's own rate (records/s) and of the process's wall time.
measure() {
  local input=$1; shift
  local rates=() walls=() start end summary
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    summary=$("$flowtag" --threads 1 "$@" "$input" 2>&1 >/dev/null | tail -1)
    end=$(date +%s.%N)
    rates+=("$(sed -E 's/.* ([0-9]+) records\/s.*/\1/' <<<"$summary")")
    walls+=("$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b-a}')")
  done
  echo "$(printf '%s\n' "${rates[@]}" | median) $(printf '%s\n' "${walls[@]}" | median)"
}

echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -sr)"
echo "flowtag: $($flowtag --version)"
printf '\n| workload | lines | MB | native rec/s | native MB/s | component rec/s | component MB/s | component/native | wall s (incl. start) |\n|---|---|---|---|---|---|---|---|---|\n'
for workload in v2 v5; do
  file="$work/$workload-$lines.log"
  [ -s "$file" ] || "$gen" "$workload" "$lines" > "$file"
  args=(--no-flow); native_args=()
  if [ "$workload" = v5 ]; then args+=(--format "$v5_format"); native_args=("$v5_format"); fi
  bytes=$(stat -c %s "$file")
  native=$(target/release/examples/throughput "$file" "${native_args[@]}" | sed -E 's/.*: ([0-9]+) records\/s.*/\1/')
  read -r rate wall < <(measure "$file" "${args[@]}")
  awk -v w="$workload" -v l="$lines" -v b="$bytes" -v n="$native" -v c="$rate" -v t="$wall" 'BEGIN{
    printf "| %s | %d | %.1f | %.2f M | %.0f | %.2f M | %.0f | %.2f | %s |\n", w, l, b/1e6, n/1e6, n*b/l/1e6, c/1e6, c*b/l/1e6, c/n, t }'
done

# Enrichment (issue 3): default-format lines whose addresses mix ENIs, AWS
# ranges and other public addresses (crates/flowlog/examples/generate.rs
# `enriched`), with a full-size generated City DB and an ASN DB
# (crates/geoip/examples/gen_city.rs), AWS's real ip-ranges.json and a
# 2000-ENI map. FLOWTAG_IP_RANGES overrides the ip-ranges.json path.
ip_ranges=${FLOWTAG_IP_RANGES:-../shared/data/aws/ip-ranges.json}
if [ ! -s "$ip_ranges" ]; then
  echo "enrichment benchmark skipped: no ip-ranges.json at $ip_ranges (set FLOWTAG_IP_RANGES)"
  exit 0
fi
cargo build --release -q -p geoip --example gen_city
data="$work/data"
mkdir -p "$data"
[ -s "$data/City.mmdb" ] || target/release/examples/gen_city "$data/City.mmdb" "$data/ASN.mmdb" >&2
"$gen" enis > "$data/enis.json"
file="$work/enriched-$lines.log"
[ -s "$file" ] || "$gen" enriched "$lines" > "$file"
bytes=$(stat -c %s "$file")
all=(--geoip "$data/City.mmdb" --geoip "$data/ASN.mmdb" --aws-ip-ranges "$ip_ranges" --eni-map "$data/enis.json")
echo
echo "City DB: $(stat -c %s "$data/City.mmdb") bytes, ASN DB: $(stat -c %s "$data/ASN.mmdb") bytes, ip-ranges: $(stat -c %s "$ip_ranges") bytes"
printf '\n| enrichment (%d lines) | rec/s | MB/s in | wall s (incl. start) | peak RSS MB |\n|---|---|---|---|---|\n' "$lines"
run_case() {
  local label=$1; shift
  local rate wall rss
  read -r rate wall < <(measure "$file" "$@")
  rss=$( { /usr/bin/time -f '%M' "$flowtag" -q --threads 1 "$@" "$file" >/dev/null; } 2>&1 | tail -1)
  awk -v n="$label" -v c="$rate" -v b="$bytes" -v l="$lines" -v t="$wall" -v r="$rss" 'BEGIN{
    printf "| %s | %.2f M | %.0f | %s | %.0f |\n", n, c/1e6, c*b/l/1e6, t, r/1024 }'
}
run_case "parse only (--no-flow)" --no-flow
run_case "+ flow"
run_case "+ flow, City + ASN" --geoip "$data/City.mmdb" --geoip "$data/ASN.mmdb"
run_case "+ flow, ip-ranges + ENI map" --aws-ip-ranges "$ip_ranges" --eni-map "$data/enis.json"
run_case "all four sources + flow" "${all[@]}"
# The same mix with 250 AWS and other public addresses instead of 25,000:
# every rendered endpoint stays in the CPU's caches, which shows what the
# row above spends waiting for memory.
enriched_file=$file enriched_bytes=$bytes
file="$work/enriched-hot-$lines.log"
[ -s "$file" ] || "$gen" enriched-hot "$lines" > "$file"
bytes=$(stat -c %s "$file")
run_case "all four sources + flow, hot addresses (enriched-hot)" "${all[@]}"
file=$enriched_file bytes=$enriched_bytes

# Start-up: one record, data loaded and checked, component compiled.
line=$(head -1 "$file")
printf '\n| start-up (one record) | wall ms, median of %d |\n|---|---|\n' "$runs"
startup() {
  local label=$1; shift
  local walls=()
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    echo "$line" | "$flowtag" -q --threads 1 "$@" >/dev/null
    end=$(date +%s.%N)
    walls+=("$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", (b-a)*1000}')")
  done
  echo "| $label | $(printf '%s\n' "${walls[@]}" | median) |"
}
startup "no data"
startup "City + ASN + ip-ranges + ENI map" "${all[@]}"
