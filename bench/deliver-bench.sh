#!/usr/bin/env bash
# deliver-bench.sh -- Backstop MX drain and pass-through rates, next to Postfix on the same machine, same backlog.
#
#   bench/deliver-bench.sh           (env: N=10000 S=20 L=4096 REPS=3 POSTFIX=1 BENCH=/tmp/backstop-bench)
#
# mx-bench.sh phases, REPS times each, for both servers (Postfix's smtp-source sends, smtp-sink is the primary):
#   a  accept N messages of L bytes with the primary down (the backlog);
#   b  drain: the primary comes up, the server is told to flush (Backstop: ETRN from the primary's address, Postfix:
#      postqueue -f), timed until the primary has all N and the server's queue is empty;
#   c  pass-through with the primary up: N messages in, timed until the primary has them all.
# Backstop runs on 127.0.0.1:2527 routing example.test to 127.0.0.1:2628; Postfix on 2525 routing to 2626.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
N=${N:-10000}; S=${S:-20}; L=${L:-4096}; REPS=${REPS:-3}; POSTFIX=${POSTFIX:-1}
BENCH=${BENCH:-${TMPDIR:-/tmp}/backstop-bench}; export BENCH
PORT_IN=2527; PORT_PRIMARY=2628
OUT=$BENCH/results/deliver-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"

cd "$ROOT"
. "$HERE/lib.sh"
build_backstop "$OUT"
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
LOG=$OUT/backstop.log
java -Djava.net.preferIPv4Stack=true -jar modules/app/target/backstop.jar serve --config "$OUT/backstop.yaml" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 300); do grep -q "SMTP listening" "$LOG" && break; sleep 0.1; done
grep -q "SMTP listening" "$LOG" || { cat "$LOG"; exit 1; }

# ETRN comes from 127.0.0.1, the primary's address, so Backstop takes it (RFC 1985)
FLUSH="python3 -c \"import smtplib; s=smtplib.SMTP('127.0.0.1', $PORT_IN); s.ehlo('primary.bench.test'); print(s.docmd('ETRN', 'example.test')); s.quit()\""
# messages still queued = received - removed, from the message log
QCOUNT="echo \$(( \$(grep -c ': received from=' $LOG) - \$(grep -c ': removed size=' $LOG) ))"

OUT=$OUT/mx PHASES="a b c" N=$N S=$S L=$L REPS=$REPS LABEL="Backstop MX" CPU_PIDS=$PID QUEUE_FS=$QUEUE \
  FLUSH_CMD=$FLUSH QUEUE_COUNT_CMD=$QCOUNT "$HERE/mx-bench.sh" $PORT_IN $PORT_PRIMARY >/dev/null 2>"$OUT/mx-bench.err" || true
cat "$OUT/mx/table.txt" 2>/dev/null || tail -5 "$OUT/mx-bench.err"
kill $PID; wait $PID 2>/dev/null || true; trap - EXIT

if [[ $POSTFIX == 1 ]]; then
  PHASES="a b c" N=$N S=$S L=$L REPS=$REPS OUT=$OUT/postfix "$HERE/postfix-bench.sh" >"$OUT/postfix.out" 2>&1 || true
  cat "$OUT/postfix/mx/table.txt" 2>/dev/null || tail -20 "$OUT/postfix.out"
fi
echo "results: $OUT"
