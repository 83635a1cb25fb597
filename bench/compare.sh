#!/usr/bin/env bash
# Runs the Java bench and the PyTorch peer in one sitting and prints the best-vs-best ratio table.
# Usage: bench/compare.sh [--quick] [--threads 1,2] [--hugetlb] [--sittings N]
# --hugetlb runs both sides with the Dockerfile's GLIBC_TUNABLES=glibc.malloc.hugetlb=1: without it,
# first-touch page faults of fresh large allocations dominate PyTorch's merge and merged-step times.
# --sittings N runs both sides N times, one after the other, and prints each sitting's ratio and their
# median: on a shared host one sitting can be twice as slow on one side.
# Needs: apt-get install -y python3-torch libopenblas0-openmp (for the peer, run by /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
sittings=1
while [ $# -gt 0 ]; do
  case "$1" in
    --hugetlb) export GLIBC_TUNABLES=glibc.malloc.hugetlb=1; shift ;;
    --sittings) sittings=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 0 ] && args=(--threads 1,2)
out=$(mktemp -d)
./mvnw -q -B test-compile
for s in $(seq 1 "$sittings"); do
  ./mvnw -q -B exec:java -Dexec.mainClass=io.qalora.bench.Bench -Dexec.classpathScope=test \
    -Dexec.args="${args[*]}" | grep '^{' > "$out/java.$s.jsonl"
  /usr/bin/python3 ../shared/bench/torch_peer.py "${args[@]}" | grep '^{' > "$out/torch.$s.jsonl"
done
/usr/bin/python3 - "$out" "$sittings" <<'PY'
import json, statistics, sys
folder, sittings = sys.argv[1], int(sys.argv[2])
def best(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        key = r["workload"]
        if key not in rows or r["value"] < rows[key]["value"]:
            rows[key] = r
    return rows
runs = [(best(f"{folder}/java.{s}.jsonl"), best(f"{folder}/torch.{s}.jsonl")) for s in range(1, sittings + 1)]
def cell(r):
    return f"{r['value']:.2f} {r['unit']} ({r['threads']})"
if sittings == 1:
    print("| workload | Java (threads) | PyTorch (threads) | ratio |")
    print("|---|---|---|---|")
else:
    print("| workload | Java (threads) | PyTorch (threads) | ratio | ratio per sitting | median ratio |")
    print("|---|---|---|---|---|---|")
for w in runs[0][0]:
    j, t = runs[0][0][w], runs[0][1].get(w)
    if t is None:
        print(f"| {w} | {cell(j)} | - | - |" + (" - | - |" if sittings > 1 else ""))
        continue
    ratios = [java[w]["value"] / torch[w]["value"] for java, torch in runs if w in java and w in torch]
    line = f"| {w} | {cell(j)} | {cell(t)} | {ratios[0]:.2f}x |"
    if sittings > 1:
        line += " " + ", ".join(f"{r:.2f}x" for r in ratios) + f" | {statistics.median(ratios):.2f}x |"
    print(line)
if sittings > 1:
    print("\nJava and PyTorch columns: the first sitting.")
PY
