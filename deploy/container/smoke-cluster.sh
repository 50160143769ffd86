# The cluster part of the container smoke test: sourced by smoke-test.sh (its engine, images, helpers and compose
# project), after the compose stack's own checks, with the primary running.
#
# The compose profile "cluster": PostgreSQL and two Backstop nodes sharing one queue on it. The check: node A takes a
# message and dies (SIGKILL) in the middle of delivering it, holding its recipient's lease; node B delivers it once
# the lease has run out, exactly once. The primary is paused (frozen) rather than stopped, so that node A's attempt
# hangs at the greeting with the lease held when it is killed: with the primary stopped the attempt would fail at
# once and give the lease back, and node B taking the message would say nothing about leases. Node B is paused until
# node A is dead, so that A (woken by its own arrival) is the node that claims the message.

# The lease short for the test (validation takes 1m at least; node A renews it while it waits at the greeting, so only
# its death lets it run out), and short delivery timeouts. The greeting wait (command-timeout, 7 s) must outlast the
# time from the claim to the kill.
export LEASE_TIME=70s CONNECT_TIMEOUT=2s COMMAND_TIMEOUT=7s DATA_TIMEOUT=4s
CLUSTER=("${COMPOSE[@]}" --profile cluster)

# a query in the shared queue's database (as its superuser, over the container's socket): the rows, fields split by |
sql() {
  "${CLUSTER[@]}" exec -T postgres psql --no-psqlrc --quiet --tuples-only --no-align --dbname=backstop --command="$1"
}

# the mailbox files at the primary that hold $1
mailbox() {
  "${COMPOSE[@]}" exec -T primary sh -c "grep -rl '$1' /var/mail/vhosts/example.org/new 2>/dev/null || true"
}

cluster_up() {
  read -r SMTP_PORT_A SMTP_PORT_B METRICS_PORT_A METRICS_PORT_B <<<"$(probe ports 4)"
  DB_PASSWORD_FILE=$WORK/db-password
  head -c 18 /dev/urandom | base64 >"$DB_PASSWORD_FILE"
  chmod 0644 "$DB_PASSWORD_FILE"
  export SMTP_PORT_A SMTP_PORT_B METRICS_PORT_A METRICS_PORT_B DB_PASSWORD_FILE

  say "building postgres (Debian's postgresql on $BASE)"
  build_service postgres --profile cluster || return 1
  # the single node's H2 queue is done with; the cluster's nodes replace it
  "${COMPOSE[@]}" stop backstop >/dev/null 2>&1
  say "compose --profile cluster up: postgres, backstop-a and backstop-b (SMTP on host ports $SMTP_PORT_A, $SMTP_PORT_B)"
  if ! timeout 180 "${CLUSTER[@]}" up --detach --no-build postgres backstop-a backstop-b \
    >"$WORK/cluster-up.log" 2>&1; then
    cat "$WORK/cluster-up.log"
    fail "docker-compose --profile cluster up"
    return 1
  fi
  NODE_A=$("${CLUSTER[@]}" ps --quiet backstop-a)
  NODE_B=$("${CLUSTER[@]}" ps --quiet backstop-b)
  local banner_a banner_b
  if wait_healthy "$NODE_A" 150 && wait_healthy "$NODE_B" 60 && banner_a=$(probe banner "$SMTP_PORT_A" 60) \
    && banner_b=$(probe banner "$SMTP_PORT_B" 60); then
    pass "the cluster profile is up: postgres healthy (pg_isready), backstop-a and backstop-b healthy," \
      "A: $banner_a, B: $banner_b"
  else
    "${CLUSTER[@]}" logs --tail 30 postgres backstop-a backstop-b 2>&1
    fail "the cluster profile is up"
    return 1
  fi
}

cluster_takeover() {
  local primary token rcpt=bob@example.org out lease= owner until killed_at state deadline delivered= files received
  primary=$("${COMPOSE[@]}" ps --quiet primary)
  token=takeover$$
  if ! "$DOCKER" pause "$NODE_B" "$primary" >/dev/null; then
    fail "docker pause of node B and the primary (the engine needs the cgroup freezer)"
    return 1
  fi
  if out=$(probe send "$SMTP_PORT_A" "$rcpt" "$token"); then
    pass "node A accepts a message into the shared queue (node B and the primary paused): $out"
  else
    fail "node A accepts a message into the shared queue: $out"
    return 1
  fi
  # node A claims it at once and waits for the frozen primary's greeting; kill it as soon as the lease is seen
  deadline=$(($(date +%s) + 20))
  while [ -z "$lease" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    lease=$(sql "SELECT lease_owner FROM recipient WHERE address = '$rcpt' AND lease_owner IS NOT NULL")
    [ -n "$lease" ] || sleep 0.5
  done
  "$DOCKER" kill "$NODE_A" >/dev/null
  killed_at=$(date +%s)
  read -r owner until <<<"$(sql "SELECT lease_owner, extract(epoch FROM lease_until)::bigint FROM recipient
    WHERE address = '$rcpt'" | tr '|' ' ')"
  state=$("$DOCKER" inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$NODE_A")
  if [ "$owner" = backstop-a ] && [ -n "$until" ] && [ "$until" -gt "$killed_at" ] && [ "$state" = "exited 137" ]; then
    pass "node A killed (SIGKILL, $state) in the middle of the delivery, its lease on the recipient running" \
      "$((until - killed_at)) s more"
  else
    fail "node A killed while holding the recipient's lease (holder '${owner:-none}', lease until ${until:-none}," \
      "killed at $killed_at, node A $state)"
    return 1
  fi
  "$DOCKER" unpause "$primary" "$NODE_B" >/dev/null
  deadline=$((until + 60))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    files=$(mailbox "$token")
    if [ -n "$files" ]; then
      delivered=$(date +%s)
      break
    fi
    sleep 1
  done
  if [ -z "$delivered" ]; then
    "${CLUSTER[@]}" logs --tail 20 backstop-b 2>&1
    fail "node B delivers node A's message after the lease (not in the mailbox $((deadline - until)) s after it)"
    return 1
  fi
  received=$("${COMPOSE[@]}" exec -T primary grep -m 1 '^Received: from' "$(head -n 1 <<<"$files")" | tr -d '\r')
  if [ "$delivered" -ge "$until" ] && grep -q 'from backstop-b\.example\.org ' <<<"$received"; then
    pass "node B delivers it once the lease has run out ($((delivered - killed_at)) s after the kill, the lease" \
      "ended after $((until - killed_at)) s): $received"
  else
    fail "node B delivers it once the lease has run out (in the mailbox $((delivered - killed_at)) s after the kill," \
      "the lease ended after $((until - killed_at)) s; $received)"
  fi
  # long enough for a second delivery, had anything kept a claim on it
  sleep 5
  local copies rows
  copies=$(mailbox "$token" | grep -c . || true)
  rows=$(sql "SELECT (SELECT count(*) FROM message) + (SELECT count(*) FROM recipient)")
  if [ "$copies" = 1 ] && [ "$rows" = 0 ]; then
    pass "delivered exactly once: one copy in the mailbox, the shared queue empty (no message or recipient rows)"
  else
    fail "delivered exactly once: $copies copies in the mailbox, $rows message and recipient rows left in the queue"
  fi
}

if cluster_up; then
  cluster_takeover || true
fi
