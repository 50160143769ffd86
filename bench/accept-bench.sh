#!/usr/bin/env bash
# accept-bench.sh -- Backstop MX accept rate and latency with the primary down, next to Postfix on the same machine.
#
#   bench/accept-bench.sh            (env: N=10000 S=20 L=4096 REPS=3 POSTFIX=1 BENCH=/tmp/backstop-bench)
#
# 1. builds the jar (if missing) and the benchmark client;
# 2. starts Backstop on 127.0.0.1:2527 with a fresh queue (every 250 is fsynced: group commit);
# 3. AcceptBench: S sessions send N messages of L bytes; prints msg/s and latency percentiles;
# 4. mx-bench.sh phase a (Postfix's smtp-source, the same driver for both servers) against Backstop, REPS times;
# 5. with POSTFIX=1 (default): postfix-setup.sh installs and configures a Postfix backup MX on 127.0.0.1:2525,
#    postfix-bench.sh runs the same phase a against it; both tables are printed together.
# All traffic stays on 127.0.0.1; the primary port is never opened (the primary is down).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
N=${N:-10000}; S=${S:-20}; L=${L:-4096}; REPS=${REPS:-3}; POSTFIX=${POSTFIX:-1}
BENCH=${BENCH:-${TMPDIR:-/tmp}/backstop-bench}; export BENCH
PORT_IN=2527; PORT_PRIMARY=2628
OUT=$BENCH/results/backstop-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"

cd "$ROOT"
. "$HERE/lib.sh"
build_backstop "$OUT" classpath
CP="modules/app/target/test-classes:$(cat "$OUT/cp.txt")"

if [[ $POSTFIX == 1 ]]; then "$HERE/postfix-setup.sh" >"$OUT/postfix-setup.log" 2>&1 || { cat "$OUT/postfix-setup.log"; exit 1; }; fi

QUEUE=$BENCH/backstop-queue; rm -rf "$QUEUE"
cat >"$OUT/backstop.yaml" <<YAML
hostname: backstop.bench.test
smtp:
  listen: 127.0.0.1:$PORT_IN
  max-connections: 1000
  max-connections-per-ip: 1000
domains:
  example.test:
    route: 127.0.0.1:$PORT_PRIMARY
queue:
  path: $QUEUE
metrics: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
YAML
java -Djava.net.preferIPv4Stack=true -jar modules/app/target/backstop.jar serve --config "$OUT/backstop.yaml" >"$OUT/backstop.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 300); do grep -q "SMTP listening" "$OUT/backstop.log" && break; sleep 0.1; done
grep -q "SMTP listening" "$OUT/backstop.log" || { cat "$OUT/backstop.log"; exit 1; }

echo "== AcceptBench (latency per message: MAIL FROM to the 250 after the dot, fsync included)"
java -cp "$CP" org.backstopmx.app.bench.AcceptBench "127.0.0.1:$PORT_IN" "$N" "$S" "$L" | tee "$OUT/acceptbench.txt"

if command -v smtp-source >/dev/null 2>&1 || [[ -x /usr/sbin/smtp-source ]]; then
  OUT=$OUT/mx PHASES=a N=$N S=$S L=$L REPS=$REPS LABEL="Backstop MX (group commit)" CPU_PIDS=$PID QUEUE_FS=$QUEUE \
    "$HERE/mx-bench.sh" $PORT_IN $PORT_PRIMARY >/dev/null 2>"$OUT/mx-bench.err" || true
  cat "$OUT/mx/table.txt" 2>/dev/null || tail -5 "$OUT/mx-bench.err"
fi
kill $PID; wait $PID 2>/dev/null || true; trap - EXIT

if [[ $POSTFIX == 1 ]]; then
  PHASES=a N=$N S=$S L=$L REPS=$REPS OUT=$OUT/postfix "$HERE/postfix-bench.sh" >"$OUT/postfix.out" 2>&1 || true
  cat "$OUT/postfix/mx/table.txt" 2>/dev/null || tail -20 "$OUT/postfix.out"
fi
echo "results: $OUT"
