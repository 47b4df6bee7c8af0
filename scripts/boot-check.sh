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
run_id="jenkins-k8s-boot-check-$$"

usage() {
  cat <<EOF
usage: scripts/boot-check.sh [--keep] [STACK]

Boots the controller a stack renders (default: e2e) on Docker, with no cluster:
  1. renders STACK with the offline harness (python -m tools.e2e_plan) and takes from the
     controller's StatefulSet its pinned image, its JCasC, its plugin list and the exact
     install-plugins command (jenkins-plugin-cli --latest false) with that container's env;
  2. installs the plugins with that command in the pinned image, into a Docker volume;
  3. starts the image with the JCasC and the plugins mounted where the pod mounts them, stand-in
     files for every mounted secret, and the controller container's env;
  4. passes only when the log says "${READY_LINE}", GET /login answers 200, and the log
     holds no configuration-as-code error (ConfigurationAsCodeBootFailure, ConfiguratorException,
     "Failed to initialize Jenkins"). On failure it prints the log.

Needs: docker, curl, python3 (makes .venv from requirements.txt if missing).
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

path_of() {  # path_of VOLUME-NAME: where the controller pod mounts that volume
  sed -n "s/^$1=//p" "$work/plan/controller/paths"
}

render() {
  log "rendering stack ${stack}"
  .venv/bin/python -m tools.e2e_plan plan "$stack" --out "$work/plan"
  mkdir -p "$work/secrets"
  local file
  while read -r file; do
    # Stand-ins: JCasC only reads these files at start-up; no value is ever checked here.
    printf 'boot-check-%s\n' "$file" >"$work/secrets/$file"
  done <"$work/plan/controller/secret-files"
  chmod -R a+rX "$work/plan/controller/casc" "$work/secrets" "$work/plan/controller"
}

install_plugins() {
  local image install uid gid
  IFS=: read -r uid gid <"$work/plan/controller/user"
  image=$(cat "$work/plan/controller/image")
  mapfile -d '' install <"$work/plan/controller/install-command"
  log "installing the pinned plugins with the install-plugins command of the pod, in ${image}"
  docker volume create "${run_id}-plugins" >/dev/null
  docker volume create "${run_id}-home" >/dev/null
  # The pod's emptyDirs and claim are writable by its fsGroup; Docker volumes belong to root.
  docker run --rm --user 0 --entrypoint chown \
    -v "${run_id}-plugins:/volumes/plugins" -v "${run_id}-home:/volumes/home" \
    "$image" -R "$(cat "$work/plan/controller/user")" /volumes
  docker run --rm --name "${run_id}-install" \
    --env-file "$work/plan/controller/install.env" \
    -v "$work/plan/controller/plugins.txt:$(path_of plugin-list)/plugins.txt:ro" \
    -v "${run_id}-plugins:$(path_of plugins)" \
    -v "${run_id}-home:$(path_of jenkins-home)" \
    --tmpfs "$(path_of cache):rw,exec,uid=${uid},gid=${gid}" \
    --entrypoint "${install[0]}" "$image" "${install[@]:1}"
}

start_controller() {
  local image uid gid
  IFS=: read -r uid gid <"$work/plan/controller/user"
  image=$(cat "$work/plan/controller/image")
  log "starting ${image} on 127.0.0.1:${PORT}"
  docker run -d --name "$run_id" -p "127.0.0.1:${PORT}:8080" \
    --env-file "$work/plan/controller/jenkins.env" \
    -v "$work/plan/controller/casc:$(path_of casc):ro" \
    -v "$work/secrets:$(path_of secrets):ro" \
    -v "${run_id}-plugins:$(path_of plugins)" \
    -v "${run_id}-home:$(path_of jenkins-home)" \
    --tmpfs "$(path_of cache):rw,exec,uid=${uid},gid=${gid}" \
    "$image" >/dev/null
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
    echo "kept: container ${run_id}, volumes ${run_id}-plugins and ${run_id}-home, files in ${work}" >&2
    return
  fi
  docker rm -f "$run_id" >/dev/null 2>&1 || true
  docker volume rm "${run_id}-plugins" "${run_id}-home" >/dev/null 2>&1 || true
  [ -z "$work" ] || rm -rf "$work"
}

main() {
  parse_args "$@"
  require_tools
  python_env
  work=$(mktemp -d "${TMPDIR:-/tmp}/jenkins-k8s-boot-check.XXXXXX")
  trap cleanup EXIT
  render
  install_plugins
  start_controller
  wait_until_up
  check_login
  echo "boot check passed: stack ${stack}, $(cat "$work/plan/controller/image"), JCasC loaded, /login 200"
}

main "$@"
