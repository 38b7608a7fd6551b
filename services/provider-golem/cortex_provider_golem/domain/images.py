"""Docker image → Golem VM image (GVMI task package); the mapping is ours and configurable.

Golem runs GVMI images converted with `gvmkit-build` and addressed as
`hash:sha3:<sha3-224>:<download URL>`. An image listed in `golem_images` maps to the value
there: a full task package used as is, or a registry tag (`user/repo:tag`). Any other image is
addressed by its own name as a registry tag, with `sha3_224(name)` as the hash: the form the
devnet resolves; on the real network list each image with its content hash instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import quote

PACKAGE_PREFIX = "hash:"


def task_package(image: str, images: Mapping[str, str], registry_url: str) -> str:
    """The `golem.srv.comp.task_package` value for a job's image."""
    target = images.get(image, image)
    if target.startswith(PACKAGE_PREFIX):
        return target
    digest = hashlib.sha3_224(target.encode()).hexdigest()
    return f"hash:sha3:{digest}:{registry_url}?tag={quote(target, safe='/:')}"
