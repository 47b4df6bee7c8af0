"""baseline/hostPathVolumes: no volume may be a hostPath."""
from ..framework import Finding
from ..pods import peek

ID, LEVEL, POLICY = "hostPathVolumes", "baseline", "pss-host-path-volumes"
DESCRIPTION = "hostPath volumes are not allowed (Pod Security baseline)."


def check(pod):
    for volume in pod.volumes():
        if volume.get("hostPath") is not None:
            path = peek(volume, "hostPath", "path")
            yield Finding("", f'{pod.spec_path}.volumes["{peek(volume, "name")}"].hostPath '
                              f'(path "{path}") is not allowed', "hostPath")
