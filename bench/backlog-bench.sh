#!/usr/bin/env bash
# backlog-bench.sh -- a big backlog over real SMTP: the appliance as shipped, Postfix's smtp-source sending and
# smtp-sink as the primary, all on 127.0.0.1.
#
#   bench/backlog-bench.sh      BACKLOGS="10000 100000" RCPTS=10 (bench.conf: S=20 L=4096), each overridable by env
#
# Per backlog (in recipients; BACKLOG/RCPTS messages of RCPTS recipients each), in a fresh appliance and queue:
#   1. fill: smtp-source -s S -m BACKLOG/RCPTS -r RCPTS -l L with the primary down (the accept rate), then wait
#      until every recipient is deferred;
#   2. the CLI, timed from starting `java`: `backstop --version` (the JVM start, median of 3), `backstop stats` and
#      `backstop queue flush example.test` (the primary still down: the flush finds it down again and defers the
#      backlog once more; how long that takes is reported too);
#      the same two through the admin API (a plain HTTP request: the appliance's side, without the CLI's JVM);
#   3. heap after GC (jcmd GC.run, then GC.heap_info);
#   4. smtp-sink comes up, ETRN from the primary's address: the time to its 250, to the first message at the sink,
#      and the drain rate of each tenth of the backlog (from the appliance's `status=sent` lines, recipients/s);
#      the heap after GC again once drained.
# ROUNDS=2 fills and drains the same backlog twice in one JVM (the second round runs on compiled code: what is left
# of a gap between the first and the last tenth is not JIT warm-up). DUMPS=N takes N thread dumps (jcmd
# Thread.print, 0.5 s apart) from the first message on. BACKSTOP_JAR measures another build.
# One table of all backlogs at the end (table.txt), with the load average.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
BACKLOGS=${BACKLOGS:-"10000 100000"}
RCPTS=${RCPTS:-10}
ROUNDS=${ROUNDS:-1}
DUMPS=${DUMPS:-0}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-1800}
BACKSTOP_PORT_ADMIN=${BACKSTOP_PORT_ADMIN:-2729}
SRC=/usr/sbin/smtp-source; SINK=/usr/sbin/smtp-sink

ms() { date +%s%3N; }
stamp() { date -u +%Y-%m-%dT%H:%M:%S.%3N; }   # the appliance log's time format
# the CLI against the running appliance, as an admin runs it (the harness's port variables unset, as for serve)
cli() {
  env $HARNESS_UNSET java -Djava.net.preferIPv4Stack=true -jar "$BACKSTOP_JAR" "$@"
}
# milliseconds a command takes, its output to $OUT/cli.log
timed() {
  local t0; t0=$(ms)
  { echo "\$ backstop $*"; cli "$@"; } >>"$OUT/cli.log" 2>&1 || { echo "bench: backstop $* failed; see $OUT/cli.log" >&2; exit 1; }
  echo $(( $(ms) - t0 ))
}
# milliseconds the admin API takes to answer $1 $2 (the appliance's side of a CLI command, without the CLI's JVM);
# plain bash, like etrn
api() {
  local t0 status; t0=$(ms)
  exec 3<>"/dev/tcp/127.0.0.1/$BACKSTOP_PORT_ADMIN" || { echo "bench: no admin API on $BACKSTOP_PORT_ADMIN" >&2; exit 1; }
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
    "$1" "$2" "$(cat "$BACKSTOP_QUEUE/admin.token")" >&3
  read -r -t 60 status <&3 || true
  { echo "\$ $1 $2"; timeout 60 cat <&3; echo; } >>"$OUT/cli.log"
  exec 3<&-
  [[ $status == "HTTP/1.1 200"* ]] || { echo "bench: $1 $2 answered: ${status:-nothing}" >&2; exit 1; }
  echo $(( $(ms) - t0 ))
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
lines() { grep -c -- "$1" "$BACKSTOP_LOG" || true; }
# heap in use after a full GC, MiB: what G1 reports used, less its young regions (allocated since the GC, when the
# appliance is busy: the old regions are what the GC kept)
heap_after_gc() {
  jcmd "$BACKSTOP_PID" GC.run >/dev/null
  jcmd "$BACKSTOP_PID" GC.heap_info | tee -a "$OUT/heap.log" | awk '
    /garbage-first heap/ { for (i = 1; i <= NF; i++) if ($i == "used") { u = $(i + 1); sub(/K.*/, "", u) } }
    / young \(/ && y == "" { y = $0; sub(/.* young \(/, "", y); sub(/K.*/, "", y) }
    END { printf "%.1f", (u - y) / 1024 }'
}
# waits (bounded by DRAIN_TIMEOUT) until the log has at least $2 lines matching $1; prints the seconds it took
wait_lines() {
  local t0 i; t0=$(ms)
  for (( i = 0; i < DRAIN_TIMEOUT; i++ )); do
    (( $(lines "$1") >= $2 )) && break
    sleep 1
  done
  awk -v t="$(( $(ms) - t0 ))" 'BEGIN { printf "%.1f", t / 1000 }'
}

SINK_PID=""
sink_start() {
  SINK_OUT=$1
  $SINK -u nobody -c "127.0.0.1:$BACKSTOP_PORT_PRIMARY" 1024 >"$SINK_OUT" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 100); do ss -Hltn "sport = :$BACKSTOP_PORT_PRIMARY" | grep -q . && return 0; sleep 0.05; done
  echo "bench: smtp-sink did not start" >&2; exit 1
}
sink_stop() { [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""; }
sink_count() {  # the last complete "... mesg=N" record of smtp-sink -c
  local c; c=$(tail -c 120 "$SINK_OUT" 2>/dev/null)
  [[ $c == *$'\r'* ]] || { echo 0; return; }
  c=${c%$'\r'*}; c=${c##*$'\r'}; c=${c##*mesg=}
  [[ $c =~ ^[0-9]+$ ]] && echo "$c" || echo 0
}
cleanup() { sink_stop; stop_backstop; }

# The drain's tenths from the sent lines after $2 (the ETRN's time), for a backlog of $1 recipients: recipients/s per
# tenth, the first tenth from the first delivery; prints "r1 ... r10". With "rounds" as $3, per tenth the recipients
# per group commit and its milliseconds instead ("rcpt@ms ..."): the sent lines of one commit are logged together
# once it is durable, so a line more than 15 ms after the one before starts the next commit (an estimate).
tenths() {
  grep -- 'status=sent' "$BACKSTOP_LOG" | awk -v n="$1" -v from="$2" -v rounds="${3:-}" '
    function t(s,   d, h, m, x) { d = substr(s, 9, 2); h = substr(s, 12, 2); m = substr(s, 15, 2); x = substr(s, 18, 6)
      return ((d * 24 + h) * 60 + m) * 60 + x }
    BEGIN { f = t(from) }
    { s = t($1); if (s < f) next; c++; if (c == 1) b[0] = s
      if (c == 1 || s - last > 0.015) g++
      last = s
      for (k = 1; k <= 10; k++) if (c == int(k * n / 10)) { b[k] = s; e[k] = g } }
    END { for (k = 1; k <= 10; k++) {
        if (rounds == "") { printf "%s%.0f", (k > 1 ? " " : ""), (b[k] > b[k - 1] ? (n / 10) / (b[k] - b[k - 1]) : 0); continue }
        r = e[k] - e[k - 1]; if (r < 1) r = 1
        printf "%s%.0f@%.0f", (k > 1 ? " " : ""), (n / 10) / r, 1000 * (b[k] - b[k - 1]) / r } }'
}

results_dir backlog
build_backstop
setup_postfix
echo "backlog,round,messages,rcpts,accept_msg_s,accept_rcpt_s,jvm_ms,stats_ms,flush_ms,api_stats_ms,api_flush_ms,flush_settle_s,heap_mib,etrn_ms,first_ms,drain_s,drain_rcpt_s,t1,t10,t1_pct,heap_after_mib,load,tenths,commits" \
  >"$OUT/results.csv"
trap cleanup EXIT
for backlog in $BACKLOGS; do
  msgs=$(( backlog / RCPTS ))
  ADMIN_LISTEN=127.0.0.1:$BACKSTOP_PORT_ADMIN start_backstop
  trap cleanup EXIT
  for (( round = 1; round <= ROUNDS; round++ )); do
    tag="$backlog-$round"
    sent0=$(lines 'status=sent'); deferred0=$(lines 'deferred to=<\|status=deferred')
    echo "bench: backlog $backlog recipients ($msgs messages x $RCPTS), round $round: filling with the primary down"
    t0=$(ms)
    step "filling (smtp-source -s $S -m $msgs -r $RCPTS -l $L)" "$OUT/fill-$tag.log" timeout "$DRAIN_TIMEOUT" \
      "$SRC" -s "$S" -m "$msgs" -r "$RCPTS" -l "$L" -f sender@example.org -t bench@example.test \
      "127.0.0.1:$BACKSTOP_PORT_IN"
    fill_ms=$(( $(ms) - t0 ))
    accept=$(awk -v m="$msgs" -v r="$RCPTS" -v t="$fill_ms" 'BEGIN { printf "%.0f,%.0f", 1000 * m / t, 1000 * m * r / t }')
    settle=$(wait_lines 'deferred to=<\|status=deferred' $(( deferred0 + backlog )))
    echo "bench:   accepted in $(( fill_ms / 1000 )) s ($accept msg/s,rcpt/s); all deferred $settle s later"
    jvm=$(median3 "$(timed --version)" "$(timed --version)" "$(timed --version)")
    stats=$(timed stats --config "$OUT/backstop.yaml")
    api_stats=$(api GET /stats)
    deferred1=$(lines 'status=deferred')
    flush=$(timed queue flush "$BENCH_DOMAIN" --config "$OUT/backstop.yaml")
    api_flush=$(api POST "/flush?domain=$BENCH_DOMAIN")
    flush_settle=$(wait_lines 'status=deferred' $(( deferred1 + backlog )))
    heap=$(heap_after_gc)
    echo "bench:   JVM start $jvm ms, stats $stats ms (API $api_stats ms), queue flush $flush ms (API $api_flush ms; all deferred again after $flush_settle s), heap after GC $heap MiB"
    sink_start "$OUT/sink-$tag.txt"
    from=$(stamp); t0=$(ms)
    reply=$(etrn "$BACKSTOP_PORT_IN" "$BENCH_DOMAIN")
    etrn_ms=$(( $(ms) - t0 ))
    [[ $reply == 250* ]] || { echo "bench: ETRN answered: $reply" >&2; exit 1; }
    first=""
    deadline=$(( t0 + DRAIN_TIMEOUT * 1000 ))
    while (( $(ms) < deadline )); do
      c=$(sink_count)
      if [[ -z $first ]] && (( c > 0 )); then
        first=$(( $(ms) - t0 ))
        for (( d = 1; d <= DUMPS; d++ )); do jcmd "$BACKSTOP_PID" Thread.print >"$OUT/threads-$tag-$d.txt"; sleep 0.5; done
      fi
      (( c >= msgs )) && break
      if [[ -z $first ]]; then sleep 0.01; else sleep 0.2; fi
    done
    (( c >= msgs )) || { echo "bench: the sink has $c of $msgs messages after $DRAIN_TIMEOUT s" >&2; exit 1; }
    drain_ms=$(( $(ms) - t0 ))
    wait_lines 'status=sent' $(( sent0 + backlog )) >/dev/null
    sink_stop
    heap_after=$(heap_after_gc)
    rates=$(tenths "$backlog" "$from")
    rounds=$(tenths "$backlog" "$from" rounds)
    read -r -a r <<<"$rates"
    load=$(cut -d' ' -f1 /proc/loadavg)
    row=$(awk -v d="$drain_ms" -v n="$backlog" -v a="${r[0]}" -v z="${r[9]}" \
      'BEGIN { printf "%.1f,%.0f,%s,%s,%.0f", d / 1000, 1000 * n / d, a, z, (z > 0 ? 100 * a / z : 0) }')
    echo "$backlog,$round,$msgs,$RCPTS,$accept,$jvm,$stats,$flush,$api_stats,$api_flush,$flush_settle,$heap,$etrn_ms,$first,$row,$heap_after,$load,$rates,$rounds" \
      >>"$OUT/results.csv"
    echo "bench:   ETRN 250 after $etrn_ms ms, first message after $first ms, drained in $(( drain_ms / 1000 )) s; per tenth (recipients/s): $rates"
    echo "bench:   per tenth, recipients per group commit @ its ms: $rounds"
  done
  stop_backstop
  cp "$BACKSTOP_LOG" "$OUT/backstop-$backlog.log"
done

{
  echo
  echo "== backlog over SMTP ($BACKSTOP_JAR; S=$S L=$L; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "   CLI times include the JVM start (jvm); rates of the drain in recipients/s; t1/t10 = first/last tenth"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
      printf "%9s %2s %12s %9s %7s %15s %15s %8s %7s %6s %7s %7s %8s %6s %6s %4s %7s %5s\n", "rcpts", "r",
        "msgs x rcpt", "accept/s", "jvm", "stats (API)", "flush (API)", "refail", "heap", "etrn", "first", "drain",
        "drain/s", "t1/s", "t10/s", "t1%", "heap2", "load"; next }
    function f(k) { return $(c[k]) }
    { printf "%9d %2d %6d x %3d %9d %4d ms %5d (%4d) ms %5d (%4d) ms %6.1f s %5.1f M %3d ms %4d ms %6.1f s %8d %6d %6d %3d%% %5.1f M %5s\n",
        f("backlog"), f("round"), f("messages"), f("rcpts"), f("accept_msg_s"), f("jvm_ms"), f("stats_ms"),
        f("api_stats_ms"), f("flush_ms"), f("api_flush_ms"), f("flush_settle_s"), f("heap_mib"), f("etrn_ms"),
        f("first_ms"), f("drain_s"), f("drain_rcpt_s"), f("t1"), f("t10"), f("t1_pct"), f("heap_after_mib"), f("load") }
  ' "$OUT/results.csv"
  echo "   per tenth (recipients/s):"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { printf "%9d %2d  %s\n", $1, $2, $(c["tenths"]) }' \
    "$OUT/results.csv"
  echo "   per tenth, recipients per group commit @ its ms (estimated from the sent lines):"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { printf "%9d %2d  %s\n", $1, $2, $(c["commits"]) }' \
    "$OUT/results.csv"
} | tee "$OUT/table.txt"
echo "results: $OUT"
