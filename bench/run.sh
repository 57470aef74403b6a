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

echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -sr)"
echo "flowtag: $($flowtag --version)"
printf '\n| workload | lines | MB | native rec/s | native MB/s | component rec/s | component MB/s | component/native | wall s (incl. start) |\n|---|---|---|---|---|---|---|---|---|\n'
for workload in v2 v5; do
  file="$work/$workload-$lines.log"
  [ -s "$file" ] || "$gen" "$workload" "$lines" > "$file"
  args=(); native_args=()
  if [ "$workload" = v5 ]; then args=(--format "$v5_format"); native_args=("$v5_format"); fi
  bytes=$(stat -c %s "$file")
  native=$(target/release/examples/throughput "$file" "${native_args[@]}" | sed -E 's/.*: ([0-9]+) records\/s.*/\1/')
  rates=(); walls=()
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    summary=$("$flowtag" --threads 1 "${args[@]}" "$file" 2>&1 >/dev/null | tail -1)
    end=$(date +%s.%N)
    rates+=("$(sed -E 's/.* ([0-9]+) records\/s.*/\1/' <<<"$summary")")
    walls+=("$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b-a}')")
  done
  rate=$(printf '%s\n' "${rates[@]}" | median)
  wall=$(printf '%s\n' "${walls[@]}" | median)
  awk -v w="$workload" -v l="$lines" -v b="$bytes" -v n="$native" -v c="$rate" -v t="$wall" 'BEGIN{
    printf "| %s | %d | %.1f | %.2f M | %.0f | %.2f M | %.0f | %.2f | %s |\n", w, l, b/1e6, n/1e6, n*b/l/1e6, c/1e6, c*b/l/1e6, c/n, t }'
done
