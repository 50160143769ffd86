#!/usr/bin/env bash
# deliver-bench.sh -- Backstop MX drain and pass-through rates, next to Postfix on the same machine, same backlog.
#
#   bench/deliver-bench.sh           (bench.conf: N=10000 S=20 L=4096 REPS=3 POSTFIX=1, each overridable by env)
#
# mx-bench.sh phases, REPS times each, for both servers (Postfix's smtp-source sends, smtp-sink is the primary):
#   a  accept N messages of L bytes with the primary down (the backlog);
#   b  drain: the primary comes up, the server is told to flush (Backstop: ETRN from the primary's address, Postfix:
#      postqueue -f), timed until the primary has all N and the server's queue is empty;
#   c  pass-through with the primary up: N messages in, timed until the primary has them all.
# Then Backstop's median rate over Postfix's per phase. Ports and paths are in bench.conf.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

results_dir deliver
build_backstop
setup_postfix
start_backstop
measure_backstop "a b c" "Backstop MX"
stop_backstop
measure_postfix "a b c"
print_ratios
echo "results: $OUT"
