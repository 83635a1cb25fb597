#!/usr/bin/env bash
# Runs the Java bench and the PyTorch peer in one sitting and prints the best-vs-best ratio table.
# Usage: bench/compare.sh [--quick] [--threads 1,2] [--hugetlb]
# --hugetlb runs both sides with the Dockerfile's GLIBC_TUNABLES=glibc.malloc.hugetlb=1: without it,
# first-touch page faults of fresh large allocations dominate PyTorch's merge and merged-step times.
# Needs: apt-get install -y python3-torch libopenblas0-openmp (for the peer, run by /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
  if [ "$a" = --hugetlb ]; then export GLIBC_TUNABLES=glibc.malloc.hugetlb=1; else args+=("$a"); fi
done
[ ${#args[@]} -eq 0 ] && args=(--threads 1,2)
out=$(mktemp -d)
./mvnw -q -B test-compile exec:java -Dexec.mainClass=io.qalora.bench.Bench -Dexec.classpathScope=test \
  -Dexec.args="${args[*]}" | grep '^{' > "$out/java.jsonl"
/usr/bin/python3 ../shared/bench/torch_peer.py "${args[@]}" | grep '^{' > "$out/torch.jsonl"
/usr/bin/python3 - "$out/java.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
def best(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        key = r["workload"]
        if key not in rows or r["value"] < rows[key]["value"]:
            rows[key] = r
    return rows
java, torch = best(sys.argv[1]), best(sys.argv[2])
print(f"| workload | Java (threads) | PyTorch (threads) | ratio |")
print(f"|---|---|---|---|")
for w in java:
    j = java[w]
    t = torch.get(w)
    if t is None:
        print(f"| {w} | {j['value']:.2f} {j['unit']} ({j['threads']}) | - | - |")
    else:
        print(f"| {w} | {j['value']:.2f} {j['unit']} ({j['threads']}) | {t['value']:.2f} {t['unit']} ({t['threads']}) | {j['value'] / t['value']:.2f}x |")
PY
