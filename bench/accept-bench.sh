#!/usr/bin/env bash
# accept-bench.sh -- Backstop MX accept rate and latency with the primary down, next to Postfix on the same machine.
#
#   bench/accept-bench.sh            (bench.conf: N=10000 S=20 L=4096 REPS=3 POSTFIX=1, each overridable by env)
#
# 1. builds the jar (if missing) and the benchmark client;
# 2. postfix-setup.sh installs Postfix's tools and configures (without starting) a Postfix backup MX;
# 3. starts Backstop with a fresh queue (every 250 is fsynced: group commit);
# 4. AcceptBench: S sessions send N messages of L bytes; prints msg/s and latency percentiles;
# 5. mx-bench.sh phase a (Postfix's smtp-source, the same driver for both servers) against Backstop, REPS times;
# 6. with POSTFIX=1: postfix-bench.sh runs the same phase a against Postfix; then the ratio of the two.
#
#   COLD=1 bench/accept-bench.sh     cold JVMs instead: no AcceptBench before phase a, so its first repetition is the
#                                    first mail a fresh JVM sees; one JVM per variant in VARIANTS (default
#                                    "plain cds": without and with the AppCDS archive written by a training run;
#                                    warm and cds-warm add `serve --warm-up $WARM_UP`, default 1000 messages
#                                    through a scratch appliance before the listener opens), each timed from
#                                    start to its first 220 (a variant named twice runs twice,
#                                    e.g. VARIANTS="plain cds plain cds"); then Postfix; then one table of all.
#                                    A variant joins levers with '-': plain, cds, warm, serial (-XX:+UseSerialGC),
#                                    parallel (-XX:+UseParallelGC), c1 (-XX:TieredStopAtLevel=1), e.g. cds-serial.
# All traffic stays on 127.0.0.1; the primary port is never opened (the primary is down).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

if [[ ${COLD:-0} == 1 ]]; then
  results_dir accept-cold
  WARM_UP=${WARM_UP:-1000}
  build_backstop
  setup_postfix
  make_archive
  : >"$OUT/start.csv"
  run=0
  for variant in ${VARIANTS:-plain cds}; do
    run=$((run + 1))
    SERVE_ARGS=""
    jvm=()
    for lever in ${variant//-/ }; do
      case $lever in
        plain) ;;
        cds) jvm+=(-XX:SharedArchiveFile="$ARCHIVE" -Xshare:auto) ;;
        warm) SERVE_ARGS="--warm-up $WARM_UP" ;;
        serial) jvm+=(-XX:+UseSerialGC) ;;
        parallel) jvm+=(-XX:+UseParallelGC) ;;
        c1) jvm+=(-XX:TieredStopAtLevel=1) ;;
        *) echo "bench: unknown lever $lever in variant $variant (plain, cds, warm, serial, parallel, c1)" >&2; exit 2 ;;
      esac
    done
    start_backstop "${jvm[@]}"
    echo "$run,$variant,$START_MS" >>"$OUT/start.csv"
    measure_backstop a "Backstop MX, cold JVM $run: $variant" "mx-$run-$variant"
    stop_backstop
  done
  measure_postfix a
  print_cold
  echo "results: $OUT"
  exit 0
fi

results_dir accept
build_backstop classpath
setup_postfix
start_backstop
echo "== AcceptBench (latency per message: MAIL FROM to the 250 after the dot, fsync included)"
step "running AcceptBench" "$OUT/acceptbench.txt" java -cp "$ROOT/modules/app/target/test-classes:$(cat "$OUT/cp.txt")" \
  org.backstopmx.app.bench.AcceptBench "127.0.0.1:$BACKSTOP_PORT_IN" "$N" "$S" "$L"
cat "$OUT/acceptbench.txt"
measure_backstop a "Backstop MX (group commit)"
stop_backstop
measure_postfix a
print_ratios
echo "results: $OUT"
