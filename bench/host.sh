#!/usr/bin/env bash
# Reproduces the host table of BENCHMARKS.md:  bash bench/host.sh [LINES]
#
#   start-up: wall time of `echo LINE | flowtag -q`, cold (empty compile
#             cache: the component is compiled) and warm (cached), median of
#             15 runs; without data files, and with the data files below.
#   workers:  the default-format file of LINES (default 1,000,000) lines with
#             --threads 1 and --threads 2, alternating, 7 rounds: the medians
#             of flowtag's own rate (processing only) and of the wall time,
#             and the median of the rounds' speed-ups by rate; with the data
#             files below when given (full enrichment), else parse only.
#   memory:   peak RSS (GNU time %M) of the 2-worker run with the data files.
#
# FLOWTAG_BENCH_WORKLOAD picks the lines (see below); FLOWTAG_BENCH_GZIP=1
# gzips them first. FLOWTAG_BENCH_PAIR=1 adds to every round two one-worker
# processes started together on the same file: their added rates show what
# two copies of the work get from this machine with nothing shared but the
# cores, the ceiling for the two workers' speed-up. Both switches are on
# only when set to 1 (0 or unset: off).
#
# Data files, optional (full-size ones for the published numbers):
#   FLOWTAG_BENCH_CITY=GeoLite2-City.mmdb FLOWTAG_BENCH_ASN=GeoLite2-ASN.mmdb
#   FLOWTAG_BENCH_IP_RANGES=ip-ranges.json FLOWTAG_BENCH_ENI=eni.json
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
work=${BENCH_DIR:-target/bench}
mkdir -p "$work"

cargo build --release -q -p flowtag
cargo build --release -q -p flowlog --example generate
flowtag=$PWD/target/release/flowtag
gen=target/release/examples/generate

data=()
[ -n "${FLOWTAG_BENCH_CITY:-}" ] && data+=(--geoip "$FLOWTAG_BENCH_CITY")
[ -n "${FLOWTAG_BENCH_ASN:-}" ] && data+=(--geoip "$FLOWTAG_BENCH_ASN")
[ -n "${FLOWTAG_BENCH_IP_RANGES:-}" ] && data+=(--aws-ip-ranges "$FLOWTAG_BENCH_IP_RANGES")
[ -n "${FLOWTAG_BENCH_ENI:-}" ] && data+=(--eni-map "$FLOWTAG_BENCH_ENI")
describe_data() {
  if [ ${#data[@]} -eq 0 ]; then echo "none (parse only)"; return; fi
  local out="" i
  for ((i = 1; i < ${#data[@]}; i += 2)); do
    out+="$(basename "${data[i]}") ($(du -h "${data[i]}" | cut -f1)) "
  done
  echo "$out"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (b-a)*1000}'; }

line="2 123456789010 eni-0a1b2c3d4e5f60001 10.0.1.25 52.95.110.1 49152 443 6 12 5210 1732500000 1732500060 ACCEPT OK"
start_ms() { # cold|warm, then flowtag args
  local mode=$1; shift
  # Absolute: BENCH_DIR may be either.
  local cache times=() t0 t1
  cache="$(cd "$work" && pwd)/startup-cache"
  rm -rf "$cache"
  if [ "$mode" = warm ]; then echo "$line" | XDG_CACHE_HOME=$cache "$flowtag" -q "$@" > /dev/null; fi
  for _ in $(seq 15); do
    [ "$mode" = cold ] && rm -rf "$cache"
    t0=$(now)
    echo "$line" | XDG_CACHE_HOME=$cache "$flowtag" -q "$@" > /dev/null
    t1=$(now)
    times+=("$(elapsed "$t0" "$t1")")
  done
  printf '%s\n' "${times[@]}" | median
}

echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -sr)"
echo "flowtag: $($flowtag --version)"
echo "data files: $(describe_data)"
echo
echo "| start-up of \`echo LINE | flowtag\` | cold ms | warm ms |"
echo "|---|---|---|"
echo "| no data files | $(start_ms cold) | $(start_ms warm) |"
if [ ${#data[@]} -gt 0 ]; then
  echo "| with the data files | $(start_ms cold "${data[@]}") | $(start_ms warm "${data[@]}") |"
fi

# FLOWTAG_BENCH_WORKLOAD=enriched (or enriched-hot, the same mix with 100x
# fewer distinct public addresses) uses lines whose addresses hit the data
# files (see bench/run.sh); the default is the plain v2 workload.
workload=${FLOWTAG_BENCH_WORKLOAD:-v2}
file="$work/$workload-$lines.log"
[ -s "$file" ] || "$gen" "$workload" "$lines" > "$file"
# FLOWTAG_BENCH_GZIP=1 measures the same lines gzipped, as S3 delivers them:
# the reader thread then inflates them.
if [ "${FLOWTAG_BENCH_GZIP:-0}" = 1 ]; then
  [ -s "$file.gz" ] || gzip -c "$file" > "$file.gz"
  file="$file.gz"
  workload="$workload, gzipped"
fi
echo
echo "workload: $workload"
echo
echo "| workers | lines | rec/s (flowtag's rate) | wall s | speed-up (wall) |"
echo "|---|---|---|---|---|"
# The two worker counts alternate, round by round: this machine's speed
# drifts by 10-20 % within minutes, which would otherwise land on one side.
declare -A rates walls
ratios=() pair_ratios=() against_pair=()
rate_of() { sed -E 's/.* ([0-9]+) records\/s.*/\1/' <<<"$1"; }
if [ "${FLOWTAG_BENCH_PAIR:-0}" = 1 ]; then
  pair_dir=$(mktemp -d)
  trap 'rm -rf "$pair_dir"' EXIT
fi
for _ in $(seq 7); do
  round=()
  for threads in 1 2; do
    t0=$(now)
    summary=$("$flowtag" --threads "$threads" "${data[@]}" "$file" 2>&1 >/dev/null | tail -1)
    t1=$(now)
    rate=$(rate_of "$summary")
    rates[$threads]+="$rate "
    walls[$threads]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') "
    round+=("$rate")
  done
  ratios+=("$(awk -v a="${round[0]}" -v b="${round[1]}" 'BEGIN{printf "%.3f", b/a}')")
  if [ "${FLOWTAG_BENCH_PAIR:-0}" = 1 ]; then
    "$flowtag" --threads 1 "${data[@]}" "$file" 2> "$pair_dir/a" > /dev/null &
    "$flowtag" --threads 1 "${data[@]}" "$file" 2> "$pair_dir/b" > /dev/null
    wait "$!"
    pair=$(( $(rate_of "$(tail -1 "$pair_dir/a")") + $(rate_of "$(tail -1 "$pair_dir/b")") ))
    pair_ratios+=("$(awk -v a="${round[0]}" -v p="$pair" 'BEGIN{printf "%.3f", p/a}')")
    against_pair+=("$(awk -v b="${round[1]}" -v p="$pair" 'BEGIN{printf "%.3f", b/p}')")
  fi
done
base=""
for threads in 1 2; do
  rate=$(tr ' ' '\n' <<<"${rates[$threads]}" | grep . | median)
  wall=$(tr ' ' '\n' <<<"${walls[$threads]}" | grep . | median)
  [ -z "$base" ] && base=$wall
  awk -v t="$threads" -v l="$lines" -v r="$rate" -v w="$wall" -v b="$base" \
    'BEGIN{printf "| %d | %d | %.2f M | %.3f | %.2fx |\n", t, l, r/1e6, w, b/w}'
done
echo
# per_round LABEL VALUE…: the median and the sorted values of the rounds.
per_round() {
  local label=$1; shift
  local sorted
  sorted=$(printf '%s\n' "$@" | sort -g | tr '\n' ' ')
  echo "$label: median $(printf '%s\n' "$@" | median); rounds: ${sorted% }"
}
per_round "speed-up by rate, per round (2 workers / 1 worker)" "${ratios[@]}"
if [ ${#pair_ratios[@]} -gt 0 ]; then
  per_round "two one-worker processes at once, added rates / 1 worker" "${pair_ratios[@]}"
  per_round "2 workers / the two processes" "${against_pair[@]}"
fi

echo
rss=$( { /usr/bin/time -f %M "$flowtag" -q --threads 2 "${data[@]}" "$file" > /dev/null; } 2>&1 | tail -1)
echo "peak RSS, --threads 2, data files above: $(awk -v k="$rss" 'BEGIN{printf "%.1f MB", k/1024}')"
