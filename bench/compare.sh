#!/usr/bin/env bash
# compare.sh ADDR [CONNS] [SECONDS]
# Runs the same policy-protocol load against: a null server (the ceiling here), postgrey (if installed) and the
# policy server already listening at ADDR, interleaved in one run, and prints each one's rate and the ratios.
# Example: bench/compare.sh 127.0.0.1:10023 16 5 (a copy of the shared yardstick, kept in the repo so a clean clone can reproduce docs/performance.md)
set -euo pipefail
addr=${1:?usage: compare.sh ADDR [CONNS] [SECONDS]}
conns=${2:-16}
secs=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
(cd "$here/policyload" && go build -o "$work/policyload" .)
(cd "$here/nullpolicy" && go build -o "$work/nullpolicy" .)
"$work/nullpolicy" -addr 127.0.0.1:10029 &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/10029) 2>/dev/null && break; sleep 0.1; done
have_postgrey=0
if command -v postgrey >/dev/null; then
  mkdir -p "$work/pg" && chown postgrey "$work/pg" 2>/dev/null || true
  postgrey --inet=127.0.0.1:10028 --dbdir="$work/pg" --delay=300 --user=postgrey -q >"$work/pg.log" 2>&1 &
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/10028) 2>/dev/null && { have_postgrey=1; break; }; sleep 0.2; done
  [ $have_postgrey = 1 ] || { echo "postgrey did not start:"; cat "$work/pg.log"; }
fi
run() { "$work/policyload" -addr "$1" -c "$conns" -d "${secs}s" | sed -n 's/.*rps=\([0-9]*\).*/\1/p'; }
line() { "$work/policyload" -addr "$1" -c "$conns" -d "${secs}s"; }
echo "# load: $conns connections, ${secs}s each, unique triplets (every request is new)"
n1=$(line 127.0.0.1:10029); echo "null      $n1"; n1=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$n1")
t1=$(line "$addr"); echo "tempfail  $t1"; t1=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$t1")
if [ $have_postgrey = 1 ]; then p1=$(run 127.0.0.1:10028); echo "postgrey  rps=$p1"; fi
n2=$(run 127.0.0.1:10029); echo "null      rps=$n2"
t2=$(run "$addr"); echo "tempfail  rps=$t2"
awk -v t1="$t1" -v t2="$t2" -v n1="$n1" -v n2="$n2" -v p1="${p1:-0}" 'BEGIN {
  t=(t1+t2)/2; n=(n1+n2)/2
  printf "ratio tempfail/null = %.2f\n", t/n
  if (p1>0) printf "ratio tempfail/postgrey = %.1f\n", t/p1
}'
