"""restricted/restrictedVolumes: only configMap, csi, downwardAPI, emptyDir, ephemeral, image,
persistentVolumeClaim, projected and secret volumes (overrides baseline hostPathVolumes)."""
from ..framework import STRING_LIST, Finding
from ..pods import peek

ID, LEVEL, POLICY = "restrictedVolumes", "restricted", "pss-restricted-volumes"
DESCRIPTION = "Only ephemeral, projected and claim-backed volume types are allowed (Pod Security restricted)."

ALLOWED = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                     "persistentVolumeClaim", "projected", "secret"})
# An allow entry may list volumeTypes: then it only exempts volumes of those types
# (dev lets the Docker-socket pod keep its hostPath, and nothing else).
ALLOW_TAG = ("volumeTypes", {**STRING_LIST, "description": "exempt only these volume types"})


def check(pod):
    for volume in pod.volumes():
        # The name is only for the message: an unknown name must not stop the check.
        sources = [k for k in volume if k != "name" and volume[k] is not None]
        # No source at all: the API server defaults the volume to emptyDir (SetDefaults_Volume).
        if not sources or any(k in ALLOWED for k in sources):
            continue
        kind = sources[0]
        yield Finding("", f'{pod.spec_path}.volumes["{peek(volume, "name")}"] of type {kind} '
                          "is not allowed", kind)
