#!/usr/bin/env bash
# Container smoke test: builds the image and runs it for real, alone and in the compose stack with its primary.
#
# Needs root on a Debian 12 machine; installs docker.io, docker-compose, debootstrap and python3 when missing.
# Starts a Docker engine of its own (data, exec root and socket in a temporary directory), builds a base image
# with debootstrap (no registry is needed; the root file system is cached in SMOKE_CACHE_DIR, default
# /var/cache/backstop-smoke), and removes everything it started on exit. Bounded: SMOKE_TIMEOUT seconds in all
# (default 900). Prints one PASS or FAIL line per check, then what it cannot test here; exits non-zero on a FAIL.
#
# The checks: the image builds on the bare base; the container runs as a non-root user; SMTP on a published port
# answers 220 and accepts a message for a served domain; HEALTHCHECK reaches "healthy" and /health/ready says 200;
# docker stop (SIGTERM) ends it with exit code 0; the queue on the volume survives the container; the compose
# stack (Backstop and its Postfix primary) comes up, and a message sent while the primary is stopped reaches the
# primary's mailbox once it starts again; the compose profile "cluster" (PostgreSQL, two nodes on one queue) comes up,
# and a message whose node is killed (SIGKILL) mid-delivery is delivered by the other node after the lease, exactly
# once (deploy/container/smoke-cluster.sh).
set -euo pipefail

if [ -z "${SMOKE_BOUNDED:-}" ]; then
  SMOKE_BOUNDED=1 exec timeout --kill-after=60 "${SMOKE_TIMEOUT:-900}" bash "$0" "$@"
fi

cd "$(dirname "$0")/../.."
REPO=$(pwd)
STARTED=$(date +%s)
CACHE_DIR=${SMOKE_CACHE_DIR:-/var/cache/backstop-smoke}
PROJECT=backstopsmoke$$
IMAGE=localhost/backstop-smoke:$$
BASE=localhost/bookworm-base:latest
failures=0

say() { printf '%s smoke-test: %s\n' "$(date +%H:%M:%S)" "$*"; }
pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
# A check that later ones depend on: without it the run ends here.
fatal() { fail "$*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "smoke-test: must run as root (it starts a Docker engine)" >&2
  exit 2
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if ((${#need[@]})); then
  say "installing: ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Debian's docker.io client; another `docker` earlier in PATH may be a newer client that wants BuildKit.
DOCKER=docker
if [ -x /usr/bin/docker ]; then
  DOCKER=/usr/bin/docker
fi

WORK=$(mktemp -d /var/tmp/backstop-smoke.XXXXXX)
export DOCKER_HOST=unix://$WORK/docker.sock
COMPOSE=(docker-compose --project-name "$PROJECT" --file "$REPO/deploy/compose.yaml")
DOCKERD_PID=

cleanup() {
  local status=$?
  set +e
  trap - EXIT TERM INT
  if [ -n "$DOCKERD_PID" ]; then
    say "cleaning up"
    "${COMPOSE[@]}" --profile cluster down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1
    "$DOCKER" rm --force "$PROJECT-single" >/dev/null 2>&1
    "$DOCKER" volume rm "$PROJECT-queue" >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 30); do
      kill -0 "$DOCKERD_PID" 2>/dev/null || break
      sleep 1
    done
    kill -KILL "$DOCKERD_PID" 2>/dev/null
    if [ "$status" -ne 0 ] && [ -f "$WORK/dockerd.log" ]; then
      echo "--- last lines of the engine's log:"
      tail -n 20 "$WORK/dockerd.log"
    fi
  fi
  # Mounts an engine killed hard may leave behind (overlays, network namespaces), deepest first.
  awk -v w="$WORK" '$2 ~ "^" w { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "FAIL: stopped by SIGTERM (SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-900} s is the limit)"; exit 143' TERM
trap 'exit 130' INT

# Small helpers in Python (SMTP dialogue, HTTP status, free ports): python3's standard library only.
cat >"$WORK/probe.py" <<'EOF'
import smtplib, socket, sys, time, urllib.request, urllib.error

def banner(port, seconds):
    # docker-proxy accepts before the application listens: only a 220 greeting counts
    deadline = time.time() + seconds
    last = "no answer"
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                line = s.makefile("rb").readline().decode("ascii", "replace").strip()
                if line.startswith("220"):
                    print(line)
                    return 0
                last = line or "connection closed without a greeting"
        except OSError as e:
            last = str(e)
        time.sleep(1)
    print(last)
    return 1

def send(port, rcpt, token):
    msg = ("From: <smoke@sender.example>\r\nTo: <%s>\r\nSubject: smoke test %s\r\n"
           "Message-ID: <%s@sender.example>\r\n\r\nBackstop smoke test %s\r\n") % (rcpt, token, token, token)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("client.sender.example")
        refused = s.sendmail("smoke@sender.example", [rcpt], msg)
        code, reply = s.noop()
    print("accepted for %s (%s)" % (rcpt, "all recipients" if not refused else refused))
    return 0

def http(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            print(r.status, r.read().decode().strip()[:200])
            return 0 if r.status == 200 else 1
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode().strip()[:200])
    except OSError as e:
        print(e)
    return 1

def ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    return 0

cmd, args = sys.argv[1], sys.argv[2:]
try:
    sys.exit({"banner": lambda: banner(int(args[0]), int(args[1])),
              "send": lambda: send(int(args[0]), args[1], args[2]),
              "http": lambda: http(args[0]),
              "ports": lambda: ports(int(args[0]))}[cmd]())
except (smtplib.SMTPException, OSError) as e:
    print("%s: %s" % (type(e).__name__, e))
    sys.exit(1)
EOF
probe() { python3 "$WORK/probe.py" "$@"; }

# waits up to $2 seconds for container $1's health status to be "healthy"
wait_healthy() {
  local deadline=$(($(date +%s) + $2)) status=
  while [ "$(date +%s)" -lt "$deadline" ]; do
    status=$("$DOCKER" inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}no healthcheck{{end}}' "$1")
    [ "$status" = healthy ] && return 0
    sleep 2
  done
  echo "$1: health status '$status' after $2 s"
  return 1
}

# a metric's value from Backstop's /metrics on host port $1 (0 when absent)
metric() {
  python3 - "$1" "$2" <<'EOF'
import sys, urllib.request
port, name = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=10).read().decode()
values = [float(l.split()[-1]) for l in text.splitlines() if l.startswith(name + " ") or l.startswith(name + "{")]
print(int(sum(values)))
EOF
}

say "starting a Docker engine in $WORK"
setsid dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
  --host "$DOCKER_HOST" >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 1 30); do
  "$DOCKER" info >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || fatal "the Docker engine did not start (see its log below)"
  sleep 1
done
"$DOCKER" info >/dev/null 2>&1 || fatal "the Docker engine did not answer within 30 s"
engine=$("$DOCKER" version --format '{{.Server.Version}}')
say "Docker engine $engine, docker-compose $(docker-compose version --short 2>/dev/null || echo '?')"

# The base image: a minimal Debian 12 from the Debian mirror, as no registry may be reachable.
ROOTFS_TAR=$CACHE_DIR/bookworm-minbase.tar
if [ ! -s "$ROOTFS_TAR" ]; then
  say "debootstrap bookworm (minbase)"
  if ! timeout 600 debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian \
    >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log"
    fatal "debootstrap of the base image"
  fi
  # cache it for the next run; where the cache cannot be written, use it from the temporary directory
  if ! { mkdir -p "$CACHE_DIR" && tar -C "$WORK/rootfs" --numeric-owner -cf "$ROOTFS_TAR.tmp" . \
    && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"; }; then
    ROOTFS_TAR=$WORK/bookworm-minbase.tar
    tar -C "$WORK/rootfs" --numeric-owner -cf "$ROOTFS_TAR" .
  fi
  rm -rf "$WORK/rootfs"
fi
"$DOCKER" import --change 'CMD ["/bin/bash"]' "$ROOTFS_TAR" "$BASE" >/dev/null
say "base image $BASE from $ROOTFS_TAR"

# Behind a TLS-inspecting proxy the build stage must trust the proxy's CA to reach Maven Central.
EXTRA_CA_CERTS=
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  EXTRA_CA_CERTS=$(cat /usr/local/share/ca-certificates/*.crt)
fi
export EXTRA_CA_CERTS

say "building the image (Maven stage and runtime stage on $BASE)"
build_started=$(date +%s)
if timeout 720 "$DOCKER" build --file deploy/container/Dockerfile --tag "$IMAGE" \
  --build-arg BASE_IMAGE="$BASE" --build-arg BUILD_IMAGE="$BASE" --build-arg EXTRA_CA_CERTS \
  . >"$WORK/build.log" 2>&1; then
  size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%d MB", $1 / 1000000 }')
  pass "image builds from deploy/container/Dockerfile on a bare Debian base ($(($(date +%s) - build_started)) s, $size)"
else
  tail -n 30 "$WORK/build.log"
  fatal "image builds from deploy/container/Dockerfile"
fi

read -r SMTP_SINGLE METRICS_SINGLE SMTP_PORT METRICS_PORT <<<"$(probe ports 4)"

# --- the image alone ---
say "running the image alone (SMTP on 127.0.0.1:$SMTP_SINGLE, metrics on 127.0.0.1:$METRICS_SINGLE)"
"$DOCKER" run --detach --name "$PROJECT-single" \
  --publish "127.0.0.1:$SMTP_SINGLE:25" --publish "127.0.0.1:$METRICS_SINGLE:9465" \
  --volume "$PROJECT-queue:/var/lib/backstop" \
  --env BACKSTOP_HOSTNAME=backstop.smoke.example.test --env BACKSTOP_DOMAINS=smoke.example.test \
  "$IMAGE" >/dev/null

user=$("$DOCKER" inspect --format '{{.Config.User}}' "$PROJECT-single")
if banner=$(probe banner "$SMTP_SINGLE" 90); then
  pass "SMTP answers on a published port: $banner"
else
  "$DOCKER" logs --tail 30 "$PROJECT-single" 2>&1
  fatal "SMTP answers 220 on a published port ($banner)"
fi
uid=$("$DOCKER" exec "$PROJECT-single" id -u)
pid1=$("$DOCKER" exec "$PROJECT-single" sh -c 'tr "\0" " " </proc/1/cmdline')
if [ "$uid" != 0 ] && [ "${user%%:*}" != 0 ] && [ -n "$user" ]; then
  pass "runs as a non-root user (image USER $user, id -u $uid) and still listens on port 25"
else
  fail "runs as a non-root user (image USER '$user', id -u $uid)"
fi
case "$pid1" in
  java*) pass "the JVM is PID 1, so it gets docker stop's SIGTERM itself ($pid1)" ;;
  *) fail "the JVM is PID 1 (PID 1 is: $pid1)" ;;
esac
if out=$(probe send "$SMTP_SINGLE" someone@smoke.example.test single$$); then
  pass "accepts a message for a served domain: $out"
else
  fail "accepts a message for a served domain: $out"
fi
if wait_healthy "$PROJECT-single" 120; then
  pass "HEALTHCHECK reports healthy"
else
  fail "HEALTHCHECK reports healthy"
fi
if out=$(probe http "http://127.0.0.1:$METRICS_SINGLE/health/ready"); then
  pass "/health/ready on the published metrics port: $out"
else
  fail "/health/ready on the published metrics port: $out"
fi
stop_started=$(date +%s)
"$DOCKER" stop --time 30 "$PROJECT-single" >/dev/null
code=$("$DOCKER" inspect --format '{{.State.ExitCode}}' "$PROJECT-single")
if [ "$code" = 0 ]; then
  pass "docker stop (SIGTERM) ends it cleanly: exit code 0 after $(($(date +%s) - stop_started)) s"
else
  "$DOCKER" logs --tail 20 "$PROJECT-single" 2>&1
  fail "docker stop (SIGTERM) ends it cleanly: exit code $code"
fi
"$DOCKER" rm "$PROJECT-single" >/dev/null
# A new container on the same volume, as in an upgrade: the message is still queued.
if queue=$("$DOCKER" run --rm --volume "$PROJECT-queue:/var/lib/backstop" "$IMAGE" queue list 2>&1) \
  && grep -q 'someone@smoke.example.test' <<<"$queue"; then
  pass "the queue on the volume outlives the container (queue list in a new container shows the message)"
else
  printf '%s\n' "$queue"
  fail "the queue on the volume outlives the container"
fi

# --- the compose stack: Backstop and its primary ---
export IMAGE BASE_IMAGE=$BASE BUILD_IMAGE=$BASE SMTP_PORT METRICS_PORT
export PROBE_INTERVAL=2s RETRY_MIN_BACKOFF=2s RETRY_MAX_BACKOFF=4s
# builds the image of the compose service $1 from deploy/compose/$1 (compose options before the command: $2...)
build_service() {
  local service=$1
  shift
  if timeout 300 "${COMPOSE[@]}" "$@" build "$service" >"$WORK/$service-build.log" 2>&1; then
    pass "the image of $service builds from deploy/compose/$service"
  else
    tail -n 30 "$WORK/$service-build.log"
    fail "the image of $service builds from deploy/compose/$service"
    return 1
  fi
}
say "building the primary (Postfix on $BASE)"
build_service primary || exit 1
say "compose up: backstop and primary (SMTP on host port $SMTP_PORT)"
timeout 120 "${COMPOSE[@]}" up --detach --no-build >"$WORK/compose-up.log" 2>&1 \
  || { cat "$WORK/compose-up.log"; fatal "docker-compose up"; }
backstop=$("${COMPOSE[@]}" ps --quiet backstop)
primary=$("${COMPOSE[@]}" ps --quiet primary)
running=$("${COMPOSE[@]}" ps --services --filter status=running | sort | tr '\n' ' ')
if [ "$running" = "backstop primary " ]; then
  pass "compose starts backstop and primary only (the monitoring profile stays down): $running"
else
  fail "compose starts backstop and primary only: running are '$running'"
fi
if wait_healthy "$backstop" 120 && wait_healthy "$primary" 60 && banner=$(probe banner "$SMTP_PORT" 60); then
  pass "the compose stack is up: backstop and primary healthy, $banner"
else
  "${COMPOSE[@]}" logs --tail 30 2>&1
  fatal "the compose stack is up"
fi

token=handover$$
"${COMPOSE[@]}" stop primary >/dev/null 2>&1
if out=$(probe send "$SMTP_PORT" alice@example.org "$token"); then
  pass "with the primary stopped, Backstop accepts mail for example.org: $out"
else
  fail "with the primary stopped, Backstop accepts mail for example.org: $out"
fi
sleep 5
queued=$(metric "$METRICS_PORT" backstop_queue_messages || echo "?")
if [ "$queued" = 1 ]; then
  pass "the message waits in Backstop's queue while the primary is down (backstop_queue_messages 1 after 5 s)"
else
  fail "the message waits in Backstop's queue while the primary is down (backstop_queue_messages $queued)"
fi
"${COMPOSE[@]}" start primary >/dev/null 2>&1
delivered=
deadline=$(($(date +%s) + 120))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if "${COMPOSE[@]}" exec -T primary grep -rlq "$token" /var/mail/vhosts/example.org/new 2>/dev/null; then
    delivered=$(($(date +%s) - deadline + 120))
    break
  fi
  sleep 2
done
if [ -n "$delivered" ]; then
  pass "once the primary is back, the message is in its mailbox (after $delivered s)"
else
  "${COMPOSE[@]}" logs --tail 20 backstop 2>&1
  fail "once the primary is back, the message is in its mailbox (not there after 120 s)"
fi
queued=$(metric "$METRICS_PORT" backstop_queue_messages || echo "?")
if [ "$queued" = 0 ]; then
  pass "Backstop's queue is empty after the hand-over"
else
  fail "Backstop's queue is empty after the hand-over (backstop_queue_messages $queued)"
fi

if "${COMPOSE[@]}" --profile monitoring config --quiet; then
  pass "the monitoring profile (Prometheus, Grafana) is valid compose (configuration only)"
else
  fail "the monitoring profile (Prometheus, Grafana) is valid compose"
fi

# --- the compose profile "cluster": two nodes, one queue on PostgreSQL ---
# shellcheck source=deploy/container/smoke-cluster.sh
. "$REPO/deploy/container/smoke-cluster.sh"

cat <<'EOF'
NOT TESTED HERE: the public base images (eclipse-temurin, maven, debian:bookworm-slim: no registry), image push,
  signing and scanning; Prometheus and Grafana containers (their images cannot be pulled: the monitoring profile is
  checked as configuration only, the artefacts by DeploymentArtefactsTest and PrometheusLiveIT); BuildKit and
  compose v2; multi-arch; Kubernetes and the systemd unit (checked statically by DeploymentArtefactsTest); the
  cluster profile without its database, or across a database failover (tested against a real PostgreSQL by the
  queue-postgres and app tests, not in containers).
EOF
say "done in $(($(date +%s) - STARTED)) s with $failures failure(s)"
[ "$failures" -eq 0 ]
