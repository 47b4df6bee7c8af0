"""How the locked plugin set reaches the controller: pure builders for the plugin list, the init
container and the volumes, in the two supply modes (`download` at start, or baked into the `image`).

Facts relied on (jenkinsci/docker tag 2.568.2 unless said otherwise):
- the image sets JENKINS_HOME=/var/jenkins_home and REF=/usr/share/jenkins/ref (debian/Dockerfile:99-104);
  at start jenkins.sh copies every file under REF into JENKINS_HOME (jenkins.sh:18), plugins/*.jpi
  included (jenkins-support:109-171);
- a plugin's version is the `Plugin-Version:` line of its MANIFEST, read with unzip
  (jenkins-support:86-91; unzip is installed by debian/Dockerfile:73);
- /bin/jenkins-plugin-cli runs `java $JAVA_OPTS -jar /opt/jenkins-plugin-manager.jar`
  (jenkins-plugin-cli.sh:3-9, debian/Dockerfile:152), so JAVA_OPTS sets its heap;
- jenkinsci/plugin-installation-manager-tool 2.15.0: a plugin listed at top level is installed at
  that version and its dependencies on other listed plugins are not resolved further
  (PluginManager.java:1138-1154; an older listed version than a dependent requires is an error);
  with `--latest false` nothing is raised to the newest (PluginManager.java:1156, CliOptions.java:150);
  there is no option to skip dependency resolution (CliOptions.java:38-166), so the closure is
  listed in full instead; plugins are written as `<id>.jpi` (Plugin.java:97-99); the default
  download directory is REF/plugins (config/Settings.java:68).
"""
from __future__ import annotations

import shlex
from typing import Iterable, Mapping, Sequence

from . import defaults
from .plugin_lock import REGENERATE, PluginLock, content_hash
from .pod_security import restricted_container_context

REF_PLUGINS = "/usr/share/jenkins/ref/plugins"
JENKINS_WAR = "/usr/share/jenkins/jenkins.war"
CONFIG_DIR = "/var/jenkins_config"
PLUGIN_FILE = f"{CONFIG_DIR}/plugins.txt"
CACHE_DIR = "/var/jenkins_cache"
# On the JENKINS_HOME volume: the installed set survives restarts; the marker names the list it holds.
STORE_SUBPATH = "locked-plugins"
STORE = f"{defaults.JENKINS_HOME}/{STORE_SUBPATH}"
MARKER = f"{defaults.JENKINS_HOME}/{STORE_SUBPATH}.sha256"


def stack_plugins(lock: PluginLock, requested: Iterable[str], extra: Mapping[str, str]) -> dict[str, str]:
    """id -> version for what the base set, the pools and extraPlugins ask for, plus all they require.
    Extra entries were checked against the lock when the config was read."""
    try:
        return lock.closure([*defaults.BASE_PLUGINS, *requested, *extra])
    except KeyError as missing:
        raise ValueError(f"plugin {missing.args[0]} is not in the plugin lock; lock it with "
                         f"`{REGENERATE} --add {missing.args[0]}`") from None


# Every listed plugin present at its listed version, and no other .jpi: else name what is wrong.
_VERIFY = r"""verify_plugins() {
  local dir=$1 wrong="" id version found line jpi
  local -A locked=()
  while IFS=: read -r id version; do
    [ -n "$id" ] || continue
    locked[$id]=1
    if [ ! -f "$dir/$id.jpi" ]; then wrong="$wrong $id(missing)"; continue; fi
    found=""
    while IFS= read -r line; do
      line=${line%$'\r'}
      if [[ $line == Plugin-Version:* ]]; then
        found=${line#Plugin-Version:}
        found=${found#"${found%%[! ]*}"}
        break
      fi
    done < <(unzip -p "$dir/$id.jpi" META-INF/MANIFEST.MF)
    [ "$found" = "$version" ] || wrong="$wrong $id($found, locked $version)"
  done < "$plugin_file"
  for jpi in "$dir"/*.jpi; do
    [ -e "$jpi" ] || continue
    id=${jpi##*/}
    id=${id%.jpi}
    [ -n "${locked[$id]:-}" ] || wrong="$wrong $id(not in the lock)"
  done
  if [ -n "$wrong" ]; then
    echo "plugins: $dir does not hold exactly the locked set:$wrong" >&2
    return 1
  fi
}
"""


def download_script(plugin_list: str, heap: str, mirror_options: Sequence[str] = ()) -> str:
    """Download the list once per distinct list: a restart with the same list downloads nothing;
    a new list is installed beside the old one and replaces it only once complete and verified."""
    want = content_hash(plugin_list)
    cli = shlex.join([
        "jenkins-plugin-cli",
        "--plugin-file", PLUGIN_FILE,
        "--plugin-download-directory", f"{STORE}.partial",
        "--war", JENKINS_WAR,
        "--latest", "false",
        "--verbose",
        *mirror_options,
    ])
    return "\n".join([
        "set -eu",
        f"plugin_file={PLUGIN_FILE}",
        _VERIFY,
        f'if [ -f {MARKER} ] && [ "$(cat {MARKER})" = {want} ] && [ -d {STORE} ]; then',
        f"  echo 'plugins: list {want} already installed, nothing to download'",
        "else",
        f"  rm -rf {STORE}.partial {MARKER}",
        f"  mkdir -p {STORE}.partial",
        f"  JAVA_OPTS={shlex.quote(heap)} {cli}",
        f"  verify_plugins {STORE}.partial",
        f"  rm -rf {STORE}",
        f"  mv {STORE}.partial {STORE}",
        f"  echo {want} > {MARKER}",
        "fi",
        # Plugins of an earlier list (a removed pool's) must not survive: jenkins.sh copies afresh.
        f"rm -rf {defaults.JENKINS_HOME}/plugins",
        "",
    ])


def image_script() -> str:
    """The image brought its plugins: refuse to start unless they are exactly this stack's list."""
    return "\n".join([
        "set -eu",
        f"plugin_file={PLUGIN_FILE}",
        _VERIFY,
        f"verify_plugins {REF_PLUGINS}",
        f"rm -rf {defaults.JENKINS_HOME}/plugins",
        "",
    ])


def init_container(source: str, image: str, plugin_list: str, mirror_options: Sequence[str] = ()) -> dict:
    common_mounts = [
        {"name": "plugin-list", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "jenkins-home", "mountPath": defaults.JENKINS_HOME},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if source == "image":
        return {
            "name": "check-plugins",
            "image": image,
            "command": ["bash", "-c", image_script()],
            "resources": defaults.HELPER_RESOURCES.as_kubernetes(),
            "securityContext": restricted_container_context(),
            "volumeMounts": common_mounts,
        }
    return {
        "name": "install-plugins",
        "image": image,
        "command": ["bash", "-c", download_script(plugin_list, defaults.PLUGIN_INSTALL_JAVA_OPTS, mirror_options)],
        "env": [{"name": "CACHE_DIR", "value": f"{CACHE_DIR}/plugin-cli"}],
        "resources": defaults.PLUGIN_INSTALL_RESOURCES.as_kubernetes(),
        "securityContext": restricted_container_context(),
        "volumeMounts": [*common_mounts, {"name": "cache", "mountPath": CACHE_DIR}],
    }


def controller_plugin_mounts(source: str) -> list[dict]:
    """Where the jenkins container finds its plugins: the image's own REF, or the installed store."""
    if source == "image":
        return []
    return [{"name": "jenkins-home", "mountPath": REF_PLUGINS, "subPath": STORE_SUBPATH, "readOnly": True}]
