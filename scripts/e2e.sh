#!/usr/bin/env bash
# The acceptance run: a kind cluster, `pulumi up` of the e2e stack (every pool type), a smoke
# pipeline on every pool through Jenkins' REST API, a topology switch that must keep
# JENKINS_HOME, and teardown. `scripts/e2e.sh --help` says what it needs and what it checks.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD

readonly STACK=e2e
readonly NEXT_STACK_FILE=stacks/Pulumi.e2e-next.yaml
readonly CLUSTER=${E2E_CLUSTER:-jenkins-k8s-e2e}
# The node image kind v0.32.0 was released with, Kubernetes 1.36.1 (kubernetes-sigs/kind v0.32.0,
# pkg/apis/config/defaults/image.go:21). Native sidecars (swarm-dind's DinD) need 1.29 or later.
readonly KIND_NODE_IMAGE="kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5"
readonly PORT=${E2E_LOCAL_PORT:-18080}
readonly BUILD_TIMEOUT=${E2E_BUILD_TIMEOUT:-900}
readonly READY_TIMEOUT=${E2E_READY_TIMEOUT:-1200}
readonly POLL=${E2E_POLL_SECONDS:-5}
readonly MARKER=/var/jenkins_home/e2e-marker
readonly SOCKET=${E2E_DOCKER_SOCKET:-/var/run/docker.sock}
# Jenkins core jenkins-2.568.2, core/src/main/java/hudson/lifecycle/Lifecycle.java:251.
readonly READY_LINE="Jenkins is fully up and running"
# core BootFailure.java:43 and configuration-as-code 2117.vc05a_0b_e6b_f4e
# ConfigurationAsCode.java:386-394 (see scripts/boot-check.sh).
readonly FAILURE_PATTERN='Failed to initialize Jenkins|ConfigurationAsCodeBootFailure|io\.jenkins\.plugins\.casc\.ConfiguratorException'

keep=false
work=""
logs=""
forward_pid=""
namespace=""
admin_secret=""
netrc=""
jar=""
crumb_header=""
run_id="e2e-$$-$RANDOM"
failed=0
controller_ok=false
results=()

usage() {
  cat <<EOF
usage: scripts/e2e.sh [--keep]

Acceptance run on a throw-away kind cluster. Needs: docker (a running engine whose socket is
/var/run/docker.sock), kind v0.32.0 or later, kubectl, the Pulumi CLI, curl, python3, bash 4.4+.
No cloud account and no secrets: state goes to a local file backend in a temporary directory,
with a passphrase made up for the run.

What it does, in order:
  1. renders the smoke jobs and the plugin list of both topologies offline (python -m
     tools.e2e_plan, one process), so a stack that does not render stops the run before a
     cluster exists;
  2. creates kind cluster ${CLUSTER} from ${KIND_NODE_IMAGE%%@*}
     with the host's /var/run/docker.sock mounted into the node (the socket pools need it);
  3. copies the project to a temporary directory, sets the stack's socketGroup to the group of
     /var/run/docker.sock, prepares the policy pack (scripts/prepare-policy-pack.sh) and runs
     \`pulumi up\` of stack ${STACK} (stacks/Pulumi.${STACK}.yaml: controller, docker-cloud,
     docker-cloud-dind, swarm, swarm-dind, kubernetes and a kubernetes image-build pool) with
     policy/config/e2e.json;
  4. waits for the controller, checks its log says "${READY_LINE}" with no
     configuration-as-code error, and that every plugin of the rendered plugin list is installed
     (GET /pluginManager/api/json);
  5. logs in with the admin Secret (stack output adminSecretName) and a crumb, and for every pool
     creates and runs a pipeline on the pool's label: \`sh\` on the agent; \`docker version\` and
     \`docker build\` where the agent has Docker (controller, swarm-dind); a check that the agent is
     a Docker container (docker-cloud, docker-cloud-dind); an image build in the buildkit
     container of the kubernetes pool with builder: buildkit-rootless. A failed build prints its
     console log;
  6. writes a marker into JENKINS_HOME, switches the stack to ${NEXT_STACK_FILE}'s pools,
     runs \`pulumi up\` again and checks the marker and the first jobs survived, then runs the
     smoke of the new pools;
  7. deletes the cluster and the smoke images on the host's engine (unless --keep) and prints a
     table: job, phase, result, seconds. docker-cloud agents are containers on the host's engine
     that the Docker plugin removes after their build; a run interrupted mid-build can leave one
     behind (label jenkins-k8s.io/pool).

Flags:  --keep   keep the cluster, the state and the port-forward for inspection
        --help   this text
Env:    E2E_CLUSTER (default jenkins-k8s-e2e), E2E_LOCAL_PORT (default 18080),
        E2E_BUILD_TIMEOUT seconds per build (default 900), E2E_READY_TIMEOUT seconds (default 1200),
        E2E_LOG_DIR (console logs and results.md; default a new temporary directory),
        E2E_DOCKER_SOCKET (default /var/run/docker.sock), E2E_SOCKET_GROUP (default its group)
Exit:   0 when every check and every pipeline passed, 1 otherwise.
EOF
}

die() { echo "error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }
py() { "$ROOT/.venv/bin/python" "$@"; }
# json_get KEY[.KEY...]... < document.json: its values, one a line ('' when absent; digits index a
# list). Standard library only, started with -I -S: it runs once for every JSON answer the run reads.
readonly JSON_GET='
import json, sys
document = json.load(sys.stdin)
for path in sys.argv[1:]:
    value = document
    for key in path.split("."):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            value = None
    print("" if value is None else value if isinstance(value, str) else json.dumps(value))
'
json_get() { py -I -S -c "$JSON_GET" "$@"; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      -h|--help) usage; exit 0 ;;
      --keep) keep=true ;;
      *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
  done
}

require_tools() {
  local tool
  for tool in docker kind kubectl pulumi curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (see --help)"
  done
  [ -S "$SOCKET" ] || die "${SOCKET} is not a socket: the socket pools need the host's Docker engine there (E2E_DOCKER_SOCKET)"
  [ -x scripts/prepare-policy-pack.sh ] \
    || die "scripts/prepare-policy-pack.sh is missing or not executable: it makes policy/venv for --policy-pack"
}

python_env() {
  if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  fi
}

make_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/jenkins-k8s-e2e.XXXXXX")
  logs=${E2E_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/jenkins-k8s-e2e-logs.XXXXXX")}
  mkdir -p "$logs" "$work/state"
  netrc=$work/netrc
  jar=$work/cookies
  export KUBECONFIG=$work/kubeconfig
  export PULUMI_BACKEND_URL="file://$work/state"
  export PULUMI_SKIP_UPDATE_CHECK=true
  # Made up for this run; the state it protects is deleted with the work directory.
  PULUMI_CONFIG_PASSPHRASE=$(py -I -S -c 'import secrets; print(secrets.token_hex(16))')
  export PULUMI_CONFIG_PASSPHRASE
}

copy_project() {
  mkdir -p "$work/project"
  tar --exclude=./.venv --exclude=./policy/venv --exclude=./.git --exclude=./rendered \
    --exclude='*/__pycache__' --exclude=./.pytest_cache -cf - . | tar -xf - -C "$work/project"
  ln -s "$ROOT/.venv" "$work/project/.venv"
  ln -s "$ROOT/policy/venv" "$work/project/policy/venv"
}

socket_group() {
  local gid
  gid=${E2E_SOCKET_GROUP:-$(stat -c %g "$SOCKET" 2>/dev/null || stat -f %g "$SOCKET")}
  [ "$gid" -ge 1 ] || die "${SOCKET} belongs to group 0; the socket pools need a non-root group (set E2E_SOCKET_GROUP)"
  echo "$gid"
}

stack_configs() {  # the e2e stack's config of each phase, socketGroup set: $work/stack-1.yaml, $work/stack-2.yaml
  local gid
  gid=$(socket_group)
  py - "$gid" "stacks/Pulumi.${STACK}.yaml" "$work/stack-1.yaml" "$NEXT_STACK_FILE" "$work/stack-2.yaml" <<'PY'
import sys
from pathlib import Path

import yaml

gid = int(sys.argv[1])
for source, target in zip(sys.argv[2::2], sys.argv[3::2]):
    config = (yaml.safe_load(Path(source).read_text()) or {})["config"]
    for pool in config.get("jenkins:pools") or []:
        if isinstance(pool.get("docker"), dict) and pool["docker"].get("access", "socket") == "socket":
            pool["docker"]["socketGroup"] = gid
    Path(target).write_text(yaml.safe_dump({"config": config}, sort_keys=False))
PY
}

render_plans() {  # the smoke jobs and controller facts of both phases, in one process, before anything is created
  py -m tools.e2e_plan plan "$STACK" --stack-file "$work/stack-1.yaml" --out "$work/plan-1" \
    --stack-file "$work/stack-2.yaml" --out "$work/plan-2"
}

use_stack_config() {  # use_stack_config PHASE: the e2e stack's config becomes that phase's
  py - "$work/stack-$1.yaml" "$work/project/stacks/Pulumi.${STACK}.yaml" <<'PY'
import sys
from pathlib import Path

import yaml

source, target = Path(sys.argv[1]), Path(sys.argv[2])
document = yaml.safe_load(target.read_text()) or {}  # keeps what the CLI wrote (encryptionsalt)
document["config"] = yaml.safe_load(source.read_text())["config"]
target.write_text(yaml.safe_dump(document, sort_keys=False))
PY
}

create_cluster() {
  # kind v0.32.0: extraMounts hostPath/containerPath (pkg/apis/config/v1alpha4/types.go:118, :256-260);
  # create cluster --name/--config/--image/--wait/--kubeconfig (pkg/cmd/kind/create/cluster/createcluster.go:59-90).
  log "creating kind cluster ${CLUSTER}"
  cat >"$work/kind.yaml" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraMounts:
      - hostPath: ${SOCKET}
        containerPath: /var/run/docker.sock
EOF
  kind create cluster --name "$CLUSTER" --image "$KIND_NODE_IMAGE" --config "$work/kind.yaml" \
    --kubeconfig "$KUBECONFIG" --wait 180s
}

prepare_stack() {
  log "preparing the policy pack and stack ${STACK}"
  scripts/prepare-policy-pack.sh
  (cd "$work/project" && pulumi stack init "$STACK" --non-interactive)
  use_stack_config 1
}

pulumi_up() {
  local environment
  environment=$(cd "$work/project" && py -m tools.environment "$STACK")
  log "pulumi up (stack ${STACK}, policy config ${environment})"
  # The preview `up` runs first (no --skip-preview) applies the policy pack before any change;
  # --yes approves the update after it (pulumi/pulumi 00043847c345, pkg/cmd/pulumi/operations/up.go,
  # the --yes, --skip-preview, --policy-pack and --policy-pack-config flags).
  (cd "$work/project" && pulumi up --stack "$STACK" --yes --non-interactive \
    --policy-pack policy --policy-pack-config "policy/config/${environment}.json")
  (cd "$work/project" && pulumi stack output --stack "$STACK" --json) >"$work/outputs.json"
  local values
  values=$(json_get namespace adminSecretName <"$work/outputs.json")
  { read -r namespace; read -r admin_secret; } <<<"$values"
  [ -n "$namespace" ] || die "stack output namespace is empty"
}

wait_controller() {  # until the rollout is done; a start-up error in the log ends the wait at once
  local waited=0 controller_log
  log "waiting for the controller in ${namespace}"
  until kubectl -n "$namespace" rollout status statefulset/jenkins --timeout=30s; do
    controller_log=$(kubectl -n "$namespace" logs pod/jenkins-0 -c jenkins 2>/dev/null || true)
    if grep -Eq "$FAILURE_PATTERN" <<<"$controller_log"; then
      printf '%s\n' "$controller_log" >&2
      die "the controller failed to start (log above)"
    fi
    waited=$((waited + 30))
    [ "$waited" -lt "$READY_TIMEOUT" ] || die "the controller was not ready after ${READY_TIMEOUT}s"
  done
}

stop_port_forward() {
  if [ -n "$forward_pid" ]; then
    kill "$forward_pid" 2>/dev/null || true
    wait "$forward_pid" 2>/dev/null || true
    forward_pid=""
  fi
}

start_port_forward() {
  stop_port_forward
  kubectl -n "$namespace" port-forward pod/jenkins-0 "${PORT}:8080" >"$logs/port-forward.log" 2>&1 &
  forward_pid=$!
  local tries=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT}/login" || true)" = "200" ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || die "GET /login through the port-forward never answered 200 (see $logs/port-forward.log)"
    sleep 2
  done
}

record() {  # record JOB PHASE RESULT SECONDS
  results+=("$1|$2|$3|$4")
  [ "$3" = "PASS" ] || failed=1
}

check_jcasc() {  # the controller's log: started, and configuration-as-code raised nothing
  local phase=$1 start=$SECONDS controller_log
  controller_log=$(kubectl -n "$namespace" logs pod/jenkins-0 -c jenkins)
  printf '%s\n' "$controller_log" >"$logs/controller-$phase.log"
  if grep -Eq "$FAILURE_PATTERN" <<<"$controller_log" || ! grep -Fq "$READY_LINE" <<<"$controller_log"; then
    record "jcasc" "$phase" FAIL $((SECONDS - start))
    echo "configuration-as-code did not load cleanly; controller log:" >&2
    printf '%s\n' "$controller_log" >&2
    return 1
  fi
  record "jcasc" "$phase" PASS $((SECONDS - start))
}

login() {
  local user password
  [ -n "$admin_secret" ] || die "stack output adminSecretName is empty"
  user=$(kubectl -n "$namespace" get secret "$admin_secret" -o jsonpath='{.data.username}' | py -I -S -m base64 -d)
  password=$(kubectl -n "$namespace" get secret "$admin_secret" -o jsonpath='{.data.password}' | py -I -S -m base64 -d)
  (umask 077 && printf 'machine 127.0.0.1 login %s password %s\n' "$user" "$password" >"$netrc")
  rm -f "$jar"
  local crumb
  mapfile -t crumb < <(jenkins_get /crumbIssuer/api/json | json_get crumbRequestField crumb)
  [ -n "${crumb[1]:-}" ] || die "no crumb from /crumbIssuer/api/json"
  crumb_header="${crumb[0]}: ${crumb[1]}"
}

jenkins_get() {
  curl -fsS --netrc-file "$netrc" -b "$jar" -c "$jar" "http://127.0.0.1:${PORT}$1"
}

jenkins_post() {  # jenkins_post PATH [curl args...]
  local path=$1
  shift
  curl -fsS --netrc-file "$netrc" -b "$jar" -c "$jar" -H "$crumb_header" -X POST "$@" "http://127.0.0.1:${PORT}${path}"
}

jenkins_status() {
  curl -s -o /dev/null -w '%{http_code}' --netrc-file "$netrc" -b "$jar" -c "$jar" "http://127.0.0.1:${PORT}$1" || true
}

check_plugins() {
  local phase=$1 start=$SECONDS missing
  if missing=$(jenkins_get '/pluginManager/api/json?depth=1' \
      | py -m tools.e2e_plan missing-plugins "$work/plan-$phase/controller/plugin-ids"); then
    record "plugins" "$phase" PASS $((SECONDS - start))
  else
    echo "plugins of the rendered list that Jenkins does not have: ${missing}" >&2
    record "plugins" "$phase" FAIL $((SECONDS - start))
  fi
}

write_marker() {
  kubectl -n "$namespace" exec pod/jenkins-0 -c jenkins -- sh -c "echo ${run_id} > ${MARKER}"
}

check_survival() {  # the marker and the jobs of phase 1 are still in JENKINS_HOME
  local start=$SECONDS found job
  found=$(kubectl -n "$namespace" exec pod/jenkins-0 -c jenkins -- cat "$MARKER" || true)
  if [ "$found" = "$run_id" ]; then
    record "jenkins-home-marker" switch PASS $((SECONDS - start))
  else
    echo "JENKINS_HOME marker: expected ${run_id}, found '${found}'" >&2
    record "jenkins-home-marker" switch FAIL $((SECONDS - start))
  fi
  while IFS=$'\t' read -r job _; do
    if [ "$(jenkins_status "/job/${job}/api/json")" = "200" ]; then
      record "jenkins-home-job:${job}" switch PASS $((SECONDS - start))
    else
      echo "job ${job} of the first topology is gone after the switch" >&2
      record "jenkins-home-job:${job}" switch FAIL $((SECONDS - start))
    fi
  done <"$work/plan-1/plan.tsv"
}

put_job() {  # put_job JOB XML: create it, or replace its config if it exists
  if [ "$(jenkins_status "/job/$1/api/json")" = "200" ]; then
    jenkins_post "/job/$1/config.xml" -H 'Content-Type: application/xml' --data-binary "@$2" >/dev/null
  else
    jenkins_post "/createItem?name=$1" -H 'Content-Type: application/xml' --data-binary "@$2" >/dev/null
  fi
}

build_number() {  # build_number QUEUE_PATH: waits until the queued build starts
  local waited=0 item fields
  while :; do
    item=$(jenkins_get "${1}api/json") || return 1
    mapfile -t fields < <(json_get executable.number cancelled why <<<"$item")
    if [ -n "${fields[0]}" ]; then echo "${fields[0]}"; return 0; fi
    [ "${fields[1]}" != "true" ] || { echo "queue item cancelled: ${fields[2]}" >&2; return 1; }
    [ "$waited" -lt "$BUILD_TIMEOUT" ] || { echo "still queued after ${BUILD_TIMEOUT}s: ${fields[2]}" >&2; return 1; }
    sleep "$POLL"
    waited=$((waited + POLL))
  done
}

build_result() {  # build_result JOB NUMBER: waits until the build ends
  local waited=0 build fields
  while :; do
    build=$(jenkins_get "/job/$1/$2/api/json") || { echo "UNREADABLE"; return 0; }
    mapfile -t fields < <(json_get building result <<<"$build")
    if [ "${fields[0]}" = "false" ] && [ -n "${fields[1]}" ]; then
      echo "${fields[1]}"
      return 0
    fi
    [ "$waited" -lt "$BUILD_TIMEOUT" ] || { echo "TIMEOUT"; return 0; }
    sleep "$POLL"
    waited=$((waited + POLL))
  done
}

run_job() {  # run_job PHASE JOB XML
  local phase=$1 job=$2 xml=$3 start=$SECONDS location queue_path number result
  log "smoke ${job} (${phase})"
  put_job "$job" "$xml"
  location=$(jenkins_post "/job/${job}/build" -D - -o /dev/null | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
  queue_path=$(sed -n 's#^.*\(/queue/item/[0-9]*/\)$#\1#p' <<<"$location")
  if [ -z "$queue_path" ] || ! number=$(build_number "$queue_path"); then
    echo "${job}: the build never started (Location: ${location:-none})" >&2
    record "$job" "$phase" FAIL $((SECONDS - start))
    return 0
  fi
  result=$(build_result "$job" "$number")
  jenkins_get "/job/${job}/${number}/consoleText" >"$logs/${job}-${phase}.log" || true
  if [ "$result" = "SUCCESS" ]; then
    record "$job" "$phase" PASS $((SECONDS - start))
  else
    echo "----- ${job} #${number}: ${result}; console log -----" >&2
    cat "$logs/${job}-${phase}.log" >&2
    record "$job" "$phase" "$result" $((SECONDS - start))
  fi
}

run_smoke() {  # run_smoke PHASE: every job of that phase's plan
  local phase=$1 job
  while IFS=$'\t' read -r job _; do
    run_job "$phase" "$job" "$work/plan-$phase/jobs/${job}.xml"
  done <"$work/plan-$phase/plan.tsv"
}

controller_checks() {  # controller_checks PHASE; sets controller_ok
  wait_controller
  start_port_forward
  controller_ok=false
  check_jcasc "$1" || return 0
  controller_ok=true
  login
  check_plugins "$1"
}

switch_topology() {
  log "switching stack ${STACK} to the pools of ${NEXT_STACK_FILE}"
  use_stack_config 2
  pulumi_up
}

print_table() {
  local row job phase result seconds
  {
    echo "| job | phase | result | seconds |"
    echo "|---|---|---|---|"
    for row in "${results[@]}"; do
      IFS='|' read -r job phase result seconds <<<"$row"
      echo "| ${job} | ${phase} | ${result} | ${seconds} |"
    done
  } | tee "$logs/results.md"
}

teardown() {
  stop_port_forward
  [ ${#results[@]} -eq 0 ] || print_table
  if [ "$keep" = true ]; then
    echo "kept: kind cluster ${CLUSTER} (KUBECONFIG=${KUBECONFIG:-}), state and project copy in ${work}" >&2
    return
  fi
  log "tearing down"
  kind delete cluster --name "$CLUSTER" || true
  # The controller pool builds on the host's engine (the node's socket): its smoke images live there.
  docker images -q jenkins-k8s-e2e/smoke | xargs -r docker rmi -f >/dev/null 2>&1 || true
  [ -z "$work" ] || rm -rf "$work"
  echo "logs: ${logs}" >&2
}

main() {
  parse_args "$@"
  require_tools
  python_env
  make_workdir
  trap teardown EXIT
  copy_project
  stack_configs
  render_plans
  create_cluster
  prepare_stack
  pulumi_up
  controller_checks 1
  if [ "$controller_ok" = true ]; then
    write_marker
    run_smoke 1
  fi
  switch_topology
  controller_checks 2
  if [ "$controller_ok" = true ]; then
    check_survival
    run_smoke 2
  fi
  [ "$failed" -eq 0 ] || { echo "acceptance run FAILED" >&2; exit 1; }
  echo "acceptance run passed"
}

main "$@"
