#!/usr/bin/env bash
# GET /v1/jobs/{id} under load: starts the packaged service on a fresh H2 file database, waits for
# readiness (which follows the service's own warm-up), makes one finished job through the API, then runs
# wrk twice for 30 s on loopback (a cold run, then a warm one) with 10 connections that each wait 20 ms
# between requests, about 500 requests a second.
# Usage: bench/job-latency.sh [--port 18080] [--duration 30s] [service arguments, e.g. --qalora.warm-up.requests=0]
# Needs: wrk, curl and jq (apt-get install -y wrk curl jq) and a packaged jar (./mvnw -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/.."
port=18080
duration=30s
service_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --*=*) service_args+=("$1"); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
jar=$(ls target/qalora-service-*.jar 2>/dev/null | grep -v original | head -1)
[ -n "$jar" ] || { echo "no jar under target/: run ./mvnw -DskipTests package first" >&2; exit 1; }
work=$(mktemp -d)
java -jar "$jar" --server.port="$port" --spring.datasource.url="jdbc:h2:file:$work/db" ${service_args[@]+"${service_args[@]}"} \
  > "$work/service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null; wait $service 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  curl -sf "$base/actuator/health/readiness" > /dev/null && break
  sleep 1
done
grep -o 'Started QaLoraApplication in .*\|Warm-up before readiness.*' "$work/service.log" || true
layer=$(curl -sf -X POST "$base/v1/layers?name=bench" -H 'Content-Type: application/json' \
  -d '{"name":"bench","weight":[[0.5,-0.2,0.1,0.3],[0.0,0.4,-0.3,0.2]],"bias":[0.1,-0.1]}' | jq -r .id)
data=$(curl -sf -X POST "$base/v1/datasets" -H 'Content-Type: application/json' -d '{"name":"bench",
  "inputs":[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]],"targets":[[0.7,0.1],[-0.1,0.5],[0.2,-0.2],[0.4,0.3]]}' | jq -r .id)
job=$(curl -sf -X POST "$base/v1/jobs" -H 'Content-Type: application/json' \
  -d "{\"layerId\":\"$layer\",\"trainingDatasetId\":\"$data\",\"hyperparameters\":{\"rank\":1,\"groupSize\":2,\"epochs\":5,\"batchSize\":4}}" \
  | jq -r .id)
status=
for _ in $(seq 1 120); do
  status=$(curl -sf "$base/v1/jobs/$job" | jq -r .status)
  [ "$status" = SUCCEEDED ] && break
  sleep 1
done
[ "$status" = SUCCEEDED ] || { echo "job $job is $status, not SUCCEEDED" >&2; tail -20 "$work/service.log" >&2; exit 1; }
cat > "$work/pace.lua" <<'LUA'
function delay()
  return 20
end
LUA
for run in cold warm; do
  echo "== $run run: GET /v1/jobs/$job for $duration"
  wrk -t 2 -c 10 -d "$duration" --latency -s "$work/pace.lua" "$base/v1/jobs/$job"
done
