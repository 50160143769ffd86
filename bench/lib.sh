# lib.sh -- the harness shared by accept-bench.sh and deliver-bench.sh: the configuration (bench.conf), running a
# step that says what failed, building, starting and stopping Backstop, running mx-bench.sh against it and against
# Postfix, and the ratios of the two. Sourced, with HERE set to this directory.
. "$HERE/bench.conf"
ROOT=$(cd "$HERE/.." && pwd)
# the appliance measured: the jar as built, or another one (an older build, to compare in the same run)
BACKSTOP_JAR=${BACKSTOP_JAR:-$ROOT/modules/app/target/backstop.jar}
# the harness's own BACKSTOP_* variables, set in its environment or exported by a caller (BACKSTOP_JAR=...): Backstop
# would refuse them as unknown configuration keys, so they are taken out of the environment it starts in
HARNESS_UNSET="-u BACKSTOP_JAR -u BACKSTOP_PORT_IN -u BACKSTOP_PORT_PRIMARY -u BACKSTOP_PORT_ADMIN -u BACKSTOP_QUEUE -u BACKSTOP_LOG -u BACKSTOP_PID"

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

# The AppCDS archive of the jar as built, written by its training run (`backstop train`: the appliance on a scratch
# queue, mail through SMTP and delivered to a primary on loopback); sets ARCHIVE. The jar's path is part of the
# archive, so it is made for the jar where the benchmark runs it.
make_archive() {
  ARCHIVE=$OUT/backstop.jsa
  step "writing the AppCDS archive (java -XX:ArchiveClassesAtExit=... -jar backstop.jar train)" "$OUT/train.log" \
    java -XX:ArchiveClassesAtExit="$ARCHIVE" -Xlog:cds=off -Xlog:cds+dynamic=off -Djava.net.preferIPv4Stack=true \
    -jar "$ROOT/modules/app/target/backstop.jar" train
  echo "bench: $(grep '^training run' "$OUT/train.log"); archive $(du -h "$ARCHIVE" | cut -f1)"
}

# Whether the server on port $1 answers 220 now.
greets() {
  local line
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" && read -r -t 5 line <&3 && [[ $line == 220* ]] ) 2>/dev/null
}

# Starts Backstop ($BACKSTOP_JAR) on 127.0.0.1:$BACKSTOP_PORT_IN with a fresh queue, routing $BENCH_DOMAIN to the
# primary port, admin API and metrics on ADMIN_LISTEN and METRICS_LISTEN (default: any free port), with the JVM
# options given as arguments and `serve` options in SERVE_ARGS; sets BACKSTOP_PID, BACKSTOP_LOG and START_MS
# (from starting the JVM to the first 220 greeting), and stops it on exit.
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
metrics: { listen: ${METRICS_LISTEN:-127.0.0.1:0} }
admin: { listen: ${ADMIN_LISTEN:-127.0.0.1:0} }
# the driver is one client sending thousands of messages a minute: far over the default rate limits, as Postfix's
# backup MX in the comparison has none
screen:
  rate: { connections-per-client: 0, connections-per-network: 0, messages-per-client: 0, messages-per-network: 0 }
YAML
  local t0 t1
  t0=$(date +%s%N)
  # shellcheck disable=SC2086 # BACKSTOP_JAVA_OPTS is a list of options, as in the entry script and the unit
  env $HARNESS_UNSET java ${BACKSTOP_JAVA_OPTS:-} "$@" -Djava.net.preferIPv4Stack=true \
    -jar "$BACKSTOP_JAR" serve --config "$OUT/backstop.yaml" ${SERVE_ARGS:-} >"$BACKSTOP_LOG" 2>&1 &
  BACKSTOP_PID=$!
  trap stop_backstop EXIT
  for _ in $(seq 1500); do
    if greets "$BACKSTOP_PORT_IN"; then
      t1=$(date +%s%N)
      START_MS=$(( (t1 - t0) / 1000000 ))
      echo "bench: Backstop ${BACKSTOP_JAVA_OPTS:-} ${*:-(no JVM options)} ${SERVE_ARGS:-}: first 220 after $START_MS ms"
      return 0
    fi
    kill -0 "$BACKSTOP_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "bench: starting Backstop failed (exited, or no 220 after 30 s); the end of $BACKSTOP_LOG:" >&2
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

# mx-bench.sh against the running Backstop: PHASES and LABEL as given; its results go to $OUT/${3:-mx}/.
measure_backstop() {
  local phases=$1 label=$2 dir=$OUT/${3:-mx}
  # messages still queued = received - removed, from the message log
  local qcount="echo \$(( \$(grep -c ': received from=' $BACKSTOP_LOG) - \$(grep -c ': removed size=' $BACKSTOP_LOG) ))"
  step "measuring Backstop (mx-bench.sh, phases $phases)" "$OUT/mx-bench.log" \
    env OUT="$dir" PHASES="$phases" LABEL="$label" CPU_PIDS="$BACKSTOP_PID" QUEUE_FS="$BACKSTOP_QUEUE" \
    FLUSH_CMD="etrn $BACKSTOP_PORT_IN $BENCH_DOMAIN" QUEUE_COUNT_CMD="$qcount" \
    "$HERE/mx-bench.sh" "$BACKSTOP_PORT_IN" "$BACKSTOP_PORT_PRIMARY"
  cat "$dir/table.txt"
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

# The cold runs of accept-bench.sh side by side: per variant, the start to the first 220, the first repetition's rate
# and server CPU per message, the median of the others, and the first repetition over Postfix's first.
print_cold() {
  echo
  echo "== cold JVM, phase a (N=$N S=$S L=$L, REPS=$REPS; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
  local pf1="" row
  [[ $POSTFIX == 1 ]] && pf1=$(awk -F, '$1 == "a" && $2 == 1 { print $5 }' "$OUT/postfix/mx/results.csv")
  printf '%-12s %10s %12s %14s %14s %12s\n' variant "first 220" "rep 1 msg/s" "rep 1 CPU/msg" "later msg/s" "rep 1 / Postfix rep 1" \
    | tee "$OUT/cold.txt"
  while IFS=, read -r run variant ms; do
    row=$(awk -F, -v pf="$pf1" '
      $1 == "a" && $2 == 1 { r1 = $5; c1 = ($3 > 0 ? 1000 * $6 / $3 : 0) }
      $1 == "a" && $2 > 1 { later = later (later == "" ? "" : " ") $5 }
      END { printf "%12.1f %11.2f ms %14s %12s", r1, c1, (later == "" ? "-" : later), (pf > 0 ? sprintf("%.2f", r1 / pf) : "-") }
    ' "$OUT/mx-$run-$variant/results.csv")
    printf '%-12s %7s ms %s\n' "$run $variant" "$ms" "$row" | tee -a "$OUT/cold.txt"
  done <"$OUT/start.csv"
  if [[ -n $pf1 ]]; then
    printf '%-12s %10s %12.1f %14s %14s\n' Postfix - "$pf1" - \
      "$(awk -F, '$1 == "a" && $2 > 1 { printf "%s ", $5 }' "$OUT/postfix/mx/results.csv")" | tee -a "$OUT/cold.txt"
  fi
}
