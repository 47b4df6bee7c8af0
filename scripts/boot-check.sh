#!/usr/bin/env bash
# Boots the pinned controller image with a rendered stack's JCasC and plugin list, on Docker alone,
# and passes only when Jenkins says it is fully up, /login answers 200 and the log holds no
# configuration-as-code error. `scripts/boot-check.sh --help` says more.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PORT=${BOOT_CHECK_PORT:-18081}
readonly TIMEOUT=${BOOT_CHECK_TIMEOUT:-600}
# Jenkins core jenkins-2.568.2: Lifecycle#onReady logs this once start-up is complete
# (core/src/main/java/hudson/lifecycle/Lifecycle.java:251), after WebAppMain has made the instance
# live (core/src/main/java/hudson/WebAppMain.java:255-260).
readonly READY_LINE="Jenkins is fully up and running"
# A failed start: BootFailure#publish logs "Failed to initialize Jenkins" with the exception
# (core/src/main/java/hudson/util/BootFailure.java:43; a plugin's BootFailure subclass is published
# as is, WebAppMain.java:266-273). configuration-as-code 2117.vc05a_0b_e6b_f4e turns any
# ConfiguratorException at start-up into ConfigurationAsCodeBootFailure
# (plugin/src/main/java/io/jenkins/plugins/casc/ConfigurationAsCode.java:386-394), so the log
# names both classes.
readonly FAILURE_PATTERN='Failed to initialize Jenkins|ConfigurationAsCodeBootFailure|io\.jenkins\.plugins\.casc\.ConfiguratorException'

stack=e2e
keep=false
work=""
uid=""
gid=""
run_id="jenkins-k8s-boot-check-$$"
mounts=()
volumes=()

usage() {
  cat <<EOF
usage: scripts/boot-check.sh [--keep] [STACK]

Boots the controller a stack renders (default: e2e) on Docker, with no cluster:
  1. renders STACK with the offline harness (python -m tools.e2e_plan) and takes from the
     controller's StatefulSet its containers: images, commands, env and mounts, the JCasC and
     the plugin list of its ConfigMap;
  2. gives the JENKINS_HOME claim a Docker volume and runs the pod's init containers that write
     to it, with their own commands (the plugin install: jenkins-plugin-cli --latest false);
  3. starts the jenkins container with its env and its mounts: the claim, the JCasC, stand-in
     files for every mounted secret, tmpfs for every emptyDir (host paths are left out);
  4. passes only when the log says "${READY_LINE}", GET /login answers 200, and the log
     holds no configuration-as-code error (ConfigurationAsCodeBootFailure, ConfiguratorException,
     "Failed to initialize Jenkins"). On failure it prints the log.

Needs: docker (engine 26 or later: claims mounted with a subPath use volume-subpath), curl,
python3 (makes .venv from requirements.txt if missing), bash 4.4+.
Flags:   --keep   leave the container and volumes for inspection
Env:     BOOT_CHECK_PORT (default 18081, on 127.0.0.1), BOOT_CHECK_TIMEOUT seconds (default 600)
EOF
}

die() { echo "error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      -h|--help) usage; exit 0 ;;
      --keep) keep=true ;;
      -*) die "unknown flag $1 (see --help)" ;;
      *) stack=$1 ;;
    esac
    shift
  done
}

require_tools() {
  local tool
  for tool in docker curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (see --help)"
  done
}

python_env() {
  if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  fi
}

render() {
  log "rendering stack ${stack}"
  .venv/bin/python -m tools.e2e_plan plan "$stack" --out "$work/plan"
  chmod -R a+rX "$work/plan/controller"
  IFS=: read -r uid gid <"$work/plan/controller/user"
}

mount_args() {  # mount_args CONTAINER: fills `mounts` with the Docker form of that container's mounts
  local kind source subpath target mode spec
  mounts=()
  while IFS=$'\t' read -r kind source subpath target mode; do
    case "$kind" in
      volume)
        spec="type=volume,src=${run_id}-${source},dst=${target}"
        # A subPath mount of a claim: the docker CLI's volume-subpath, from Docker 26
        # (docker/cli v26.0.0, opts/mount.go:134).
        [ "$subpath" = - ] || spec="${spec},volume-subpath=${subpath}"
        ;;
      bind) spec="type=bind,src=${work}/plan/controller/${source},dst=${target}" ;;
      tmpfs) mounts+=(--tmpfs "${target}:rw,exec,uid=${uid},gid=${gid}"); continue ;;
      *) die "unknown mount kind ${kind} in the plan" ;;
    esac
    [ "$mode" != ro ] || spec="${spec},readonly"
    mounts+=(--mount "$spec")
  done <"$work/plan/controller/$1.mounts"
}

create_volumes() {  # one Docker volume per claim, owned like the pod's fsGroup makes it
  local image source
  image=$(cat "$work/plan/controller/jenkins.image")
  while read -r source; do
    docker volume create "${run_id}-${source}" >/dev/null
    volumes+=("${run_id}-${source}")
    docker run --rm --user 0 --entrypoint chown -v "${run_id}-${source}:/volume" "$image" "${uid}:${gid}" /volume
  done < <(awk -F'\t' '$1 == "volume" {print $2}' "$work/plan/controller/"*.mounts | sort -u)
}

run_init_containers() {  # the pod's init containers that write to its claim, in order (plugin install)
  local name command
  while read -r name; do
    log "init container ${name} (the pod's own command)"
    mount_args "$name"
    mapfile -d '' command <"$work/plan/controller/${name}.command"
    docker run --rm --name "${run_id}-${name}" --user "${uid}:${gid}" \
      --env-file "$work/plan/controller/${name}.env" "${mounts[@]}" \
      --entrypoint "${command[0]}" "$(cat "$work/plan/controller/${name}.image")" "${command[@]:1}"
  done <"$work/plan/controller/init-containers"
}

start_controller() {
  local image
  image=$(cat "$work/plan/controller/jenkins.image")
  log "starting ${image} on 127.0.0.1:${PORT}"
  mount_args jenkins
  docker run -d --name "$run_id" --user "${uid}:${gid}" -p "127.0.0.1:${PORT}:8080" \
    --env-file "$work/plan/controller/jenkins.env" "${mounts[@]}" "$image" >/dev/null
}

controller_log() {
  docker logs "$run_id" 2>&1
}

fail_with_log() {
  echo "boot check FAILED: $*" >&2
  echo "----- controller log -----" >&2
  controller_log >&2 || true
  exit 1
}

wait_until_up() {
  local waited=0 logs
  while :; do
    logs=$(controller_log || true)
    if grep -Eq "$FAILURE_PATTERN" <<<"$logs"; then
      fail_with_log "configuration-as-code or start-up error in the log"
    fi
    if grep -Fq "$READY_LINE" <<<"$logs"; then
      return 0
    fi
    if [ "$(docker inspect -f '{{.State.Running}}' "$run_id" 2>/dev/null || echo false)" != "true" ]; then
      fail_with_log "the controller container stopped"
    fi
    [ "$waited" -lt "$TIMEOUT" ] || fail_with_log "no \"${READY_LINE}\" after ${TIMEOUT}s"
    sleep 5
    waited=$((waited + 5))
  done
}

check_login() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT}/login" || true)
  [ "$code" = "200" ] || fail_with_log "GET /login answered ${code}, not 200"
}

cleanup() {
  if [ "$keep" = true ]; then
    echo "kept: container ${run_id}, volumes ${volumes[*]}, files in ${work}" >&2
    return
  fi
  docker rm -f "$run_id" >/dev/null 2>&1 || true
  [ ${#volumes[@]} -eq 0 ] || docker volume rm "${volumes[@]}" >/dev/null 2>&1 || true
  [ -z "$work" ] || rm -rf "$work"
}

main() {
  parse_args "$@"
  require_tools
  python_env
  work=$(mktemp -d "${TMPDIR:-/tmp}/jenkins-k8s-boot-check.XXXXXX")
  trap cleanup EXIT
  render
  create_volumes
  run_init_containers
  start_controller
  wait_until_up
  check_login
  echo "boot check passed: stack ${stack}, $(cat "$work/plan/controller/jenkins.image"), JCasC loaded, /login 200"
}

main "$@"
