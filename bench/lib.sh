# Shared by the bench scripts: run a step, and when it fails say which one and show the end of its log.
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

# The appliance jar and, when asked, the test classpath of modules/app: built with its sibling modules (-am), so a
# fresh clone that never ran mvn install resolves them from the reactor.
build_backstop() {
  local out=$1 want_cp=${2:-}
  [[ -f modules/app/target/backstop.jar ]] || step "building the appliance (mvn package)" "$out/build.log" \
    mvn -q -B -DskipTests package
  if [[ -n $want_cp ]]; then
    step "building the test classpath of modules/app" "$out/classpath.log" \
      mvn -q -B -pl modules/app -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$out/cp.txt"
  fi
}
