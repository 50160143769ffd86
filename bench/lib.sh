# lib.sh -- the harness shared by accept-bench.sh and deliver-bench.sh: the configuration (bench.conf), running a
# step that says what failed, building, starting and stopping Backstop, running mx-bench.sh against it and against
# Postfix, and the ratios of the two. Sourced, with HERE set to this directory.
. "$HERE/bench.conf"
ROOT=$(cd "$HERE/.." && pwd)

# Runs a step with its output in LOGFILE; when it fails, says which step and shows the end of the log, then exits.
# Usage: step "what it does" LOGFILE command args...
step() {
  local what=$1 log=$2 rc=0; shift 2
  "$@" >"$log" 2>&1 || rc=$?
  if (( rc != 0 )); then
    echo "bench: $what failed (exit $rc); the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# A fresh results directory for this run: $BENCH/results/NAME-<time>; sets OUT.
results_dir() {
  OUT=$BENCH/results/$1-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$OUT"
  echo "bench: results in $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
}

# The appliance jar and, when asked, the test classpath of modules/app (into $OUT/cp.txt): built with the sibling
# modules (-am), so a fresh clone that never ran mvn install resolves them from the reactor.
build_backstop() {
  local want_cp=${1:-}
  cd "$ROOT"
  [[ -f modules/app/target/backstop.jar ]] || step "building the appliance (mvn package)" "$OUT/build.log" \
    mvn -q -B -DskipTests package
  if [[ -n $want_cp ]]; then
    step "building the test classpath of modules/app" "$OUT/classpath.log" \
      mvn -q -B -pl modules/app -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$OUT/cp.txt"
  fi
}

# Postfix's smtp-source and smtp-sink drive both servers: postfix-setup.sh installs them (and configures, without
# starting, the Postfix instance measured by postfix-bench.sh).
setup_postfix() {
  step "installing and configuring Postfix and its tools (postfix-setup.sh)" "$OUT/postfix-setup.log" \
    "$HERE/postfix-setup.sh"
}

# Starts Backstop on 127.0.0.1:$BACKSTOP_PORT_IN with a fresh queue, routing $BENCH_DOMAIN to the primary port; sets
# BACKSTOP_PID and BACKSTOP_LOG, and stops it on exit.
start_backstop() {
  local queue=$BENCH/backstop-queue
  rm -rf "$queue"
  BACKSTOP_QUEUE=$queue
  BACKSTOP_LOG=$OUT/backstop.log
  cat >"$OUT/backstop.yaml" <<YAML
hostname: backstop.bench.test
smtp:
  listen: 127.0.0.1:$BACKSTOP_PORT_IN
  max-connections: 1000
  max-connections-per-ip: 1000
domains:
  $BENCH_DOMAIN:
    route: 127.0.0.1:$BACKSTOP_PORT_PRIMARY
queue:
  path: $queue
metrics: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
# the driver is one client sending thousands of messages a minute: far over the default rate limits, as Postfix's
# backup MX in the comparison has none
screen:
  rate: { connections-per-client: 0, connections-per-network: 0, messages-per-client: 0, messages-per-network: 0 }
YAML
  java -Djava.net.preferIPv4Stack=true -jar "$ROOT/modules/app/target/backstop.jar" serve \
    --config "$OUT/backstop.yaml" >"$BACKSTOP_LOG" 2>&1 &
  BACKSTOP_PID=$!
  trap stop_backstop EXIT
  for _ in $(seq 300); do grep -q "SMTP listening" "$BACKSTOP_LOG" && return 0; sleep 0.1; done
  echo "bench: starting Backstop failed (not listening after 30 s); the end of $BACKSTOP_LOG:" >&2
  tail -n 40 "$BACKSTOP_LOG" >&2
  exit 1
}

stop_backstop() {
  [[ -n ${BACKSTOP_PID:-} ]] || return 0
  kill "$BACKSTOP_PID" 2>/dev/null
  wait "$BACKSTOP_PID" 2>/dev/null
  BACKSTOP_PID=""
  trap - EXIT
}

# ETRN (RFC 1985) for $2 to the server on port $1, from 127.0.0.1 (the primary's address, so Backstop takes it);
# prints the reply. Plain bash: the machine needs nothing beyond the README's set-up.
etrn() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  read -r -t 10 line <&3
  printf 'EHLO primary.bench.test\r\n' >&3
  while read -r -t 10 line <&3 && [[ $line == 250-* ]]; do :; done
  printf 'ETRN %s\r\n' "$2" >&3
  read -r -t 10 line <&3 && echo "$line"
  printf 'QUIT\r\n' >&3
  read -r -t 10 line <&3
  exec 3<&-
}
export -f etrn

# mx-bench.sh against the running Backstop: PHASES and LABEL as given; its table goes to $OUT/mx/table.txt.
measure_backstop() {
  local phases=$1 label=$2
  # messages still queued = received - removed, from the message log
  local qcount="echo \$(( \$(grep -c ': received from=' $BACKSTOP_LOG) - \$(grep -c ': removed size=' $BACKSTOP_LOG) ))"
  step "measuring Backstop (mx-bench.sh, phases $phases)" "$OUT/mx-bench.log" \
    env OUT="$OUT/mx" PHASES="$phases" LABEL="$label" CPU_PIDS="$BACKSTOP_PID" QUEUE_FS="$BACKSTOP_QUEUE" \
    FLUSH_CMD="etrn $BACKSTOP_PORT_IN $BENCH_DOMAIN" QUEUE_COUNT_CMD="$qcount" \
    "$HERE/mx-bench.sh" "$BACKSTOP_PORT_IN" "$BACKSTOP_PORT_PRIMARY"
  cat "$OUT/mx/table.txt"
}

# postfix-bench.sh with the same phases (when POSTFIX=1); its table goes to $OUT/postfix/mx/table.txt.
measure_postfix() {
  [[ $POSTFIX == 1 ]] || return 0
  step "measuring Postfix (postfix-bench.sh, phases $1)" "$OUT/postfix.log" \
    env PHASES="$1" OUT="$OUT/postfix" "$HERE/postfix-bench.sh"
  cat "$OUT/postfix/mx/table.txt"
}

# Backstop's median rate over Postfix's, per phase, from the two runs' results.csv.
print_ratios() {
  [[ $POSTFIX == 1 ]] || return 0
  echo
  echo "== Backstop MX / Postfix, median msg/s per phase (same run, same driver)"
  awk -F, '
    function med(p, f,   n, i, j, t, a) { n = cnt[f, p]; for (i = 1; i <= n; i++) a[i] = v[f, p, i]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    FNR == 1 { f++; next }
    { p = $1; v[f, p, ++cnt[f, p]] = $5; if (f == 1 && !(p in seen)) { seen[p] = 1; order[++np] = p } }
    END { for (q = 1; q <= np; q++) { p = order[q]; if (!cnt[2, p]) continue; b = med(p, 1); x = med(p, 2)
            printf "%-3s %9.1f / %9.1f = %.2f\n", p, b, x, (x > 0 ? b / x : 0) } }
  ' "$OUT/mx/results.csv" "$OUT/postfix/mx/results.csv" | tee "$OUT/ratios.txt"
}
