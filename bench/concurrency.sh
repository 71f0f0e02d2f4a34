#!/usr/bin/env bash
# concurrency.sh ADDR [SECONDS]: rate and latency of the null server and of the policy server at ADDR as the number
# of concurrent connections (Postfix smtpd processes asking at once) grows: 1, 2, 4, 8, 16, 32. Every request is a
# new triplet (a different seed per run). Shows where the p99 goes: queueing for the two CPUs once the connections
# outnumber them, for the null server as for tempfail.
# Example: tempfail serve --config bench/configs/greylist-only.toml & bench/concurrency.sh 127.0.0.1:10023
set -euo pipefail
addr=${1:?usage: concurrency.sh ADDR [SECONDS]}
secs=${2:-4}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
(cd "$here/policyload" && go build -o "$work/policyload" .)
(cd "$here/nullpolicy" && go build -o "$work/nullpolicy" .)
"$work/nullpolicy" -addr 127.0.0.1:10029 &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/10029) 2>/dev/null && break; sleep 0.1; done
printf '%-5s %-9s %s\n' conns server result
for c in 1 2 4 8 16 32; do
	for target in null "$addr"; do
		a=$target; [ "$target" = null ] && a=127.0.0.1:10029
		out=$("$work/policyload" -addr "$a" -c "$c" -d "${secs}s" -seed $((c * 13 + ${#target})))
		printf '%-5s %-9s %s\n' "$c" "$([ "$target" = null ] && echo null || echo tempfail)" "$(grep -o 'rps=[0-9]* p50=[^ ]* p99=[^ ]*' <<<"$out")"
	done
done
