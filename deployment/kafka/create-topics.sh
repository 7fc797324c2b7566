#!/usr/bin/env bash
# Creates the indexer's topics with Kafka's own kafka-topics.sh, for clusters not run by Strimzi.
# Same topics and settings as deployment/kafka/topics.yaml. Safe to run again: existing topics are
# kept and their settings brought in line (partitions are never reduced).
#
#   BOOTSTRAP=broker1:9092 deployment/kafka/create-topics.sh
#
# Environment:
#   BOOTSTRAP           bootstrap servers (required)
#   KAFKA_BIN           directory holding kafka-topics.sh and kafka-configs.sh (default: found on PATH)
#   COMMAND_CONFIG      client properties file for secured clusters (SASL/TLS), passed as --command-config
#   REPLICATION_FACTOR  default 3
#   MIN_ISR             min.insync.replicas, default 2 (use 1 with REPLICATION_FACTOR=1)
set -euo pipefail

: "${BOOTSTRAP:?set BOOTSTRAP to the bootstrap servers of the cluster, e.g. BOOTSTRAP=broker1:9092}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-3}"
MIN_ISR="${MIN_ISR:-2}"
if [ -n "${KAFKA_BIN:-}" ]; then
  TOPICS="$KAFKA_BIN/kafka-topics.sh"; CONFIGS="$KAFKA_BIN/kafka-configs.sh"
else
  TOPICS="$(command -v kafka-topics.sh || true)"; CONFIGS="$(command -v kafka-configs.sh || true)"
fi
[ -x "$TOPICS" ] && [ -x "$CONFIGS" ] \
  || { echo "error: kafka-topics.sh and kafka-configs.sh not found; set KAFKA_BIN to the bin/ directory of a Kafka 3.7+ distribution" >&2; exit 1; }
if [ "$MIN_ISR" -gt "$REPLICATION_FACTOR" ]; then
  echo "error: MIN_ISR ($MIN_ISR) is above REPLICATION_FACTOR ($REPLICATION_FACTOR): every write would fail; lower MIN_ISR" >&2
  exit 1
fi

client=(--bootstrap-server "$BOOTSTRAP")
[ -n "${COMMAND_CONFIG:-}" ] && client+=(--command-config "$COMMAND_CONFIG")

# topic partitions config(comma-separated key=value)
ensure_topic() {
  local topic="$1" partitions="$2" config="$3,min.insync.replicas=$MIN_ISR"
  local config_args=() item
  IFS=',' read -r -a items <<< "$config"
  for item in "${items[@]}"; do config_args+=(--config "$item"); done
  "$TOPICS" "${client[@]}" --create --if-not-exists --topic "$topic" \
    --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" "${config_args[@]}"
  # Existing topics: bring settings in line and grow partitions if fewer (never shrinks).
  "$CONFIGS" "${client[@]}" --alter --entity-type topics --entity-name "$topic" --add-config "$config" >/dev/null
  local current
  current="$("$TOPICS" "${client[@]}" --describe --topic "$topic" | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -1)"
  if [ -n "$current" ] && [ "$current" -lt "$partitions" ]; then
    "$TOPICS" "${client[@]}" --alter --topic "$topic" --partitions "$partitions"
  fi
  echo "$topic: at least $partitions partitions, $config"
}

ensure_topic catalogue-events       12 "cleanup.policy=delete,retention.ms=604800000"
ensure_topic neighbour-lists        12 "cleanup.policy=compact,min.compaction.lag.ms=3600000,max.compaction.lag.ms=86400000,delete.retention.ms=86400000,segment.ms=3600000,min.cleanable.dirty.ratio=0.5"
ensure_topic catalogue-dead-letters  3 "cleanup.policy=delete,retention.ms=1209600000"
ensure_topic catalogue-fetch-retries 12 "cleanup.policy=delete,retention.ms=604800000"
