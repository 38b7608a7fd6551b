"""Task package (GVMI hash / registry tag) -> a container-like image name the runner understands.

Golem addresses VM images as `hash:sha3:<sha3-224>:<download URL>`. The devnet has no GVMI
registry, so it maps packages to images of `devnets.images`:

1. the sha3 hash of a known image: `sha3_224(<image name>)` for the names in KNOWN_IMAGES
   (real registry hashes are content hashes; use `task_package()` to build devnet ones);
2. otherwise a `tag=` query parameter in the URL (registry.golem.network `…/download?tag=` or
   `…/image/info?tag=`): `golem/<name>` -> `<name>` (Golem's official images), any other tag
   is taken as the Docker image it was converted from;
3. otherwise the package is unknown and `deploy` fails like a failed image download.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, quote, urlsplit

from devnets.images import registry_host

REGISTRY = "http://registry.golem.network/v1/image/download"
KNOWN_IMAGES = (
    "alpine:latest",
    "alpine:3.20",
    "busybox:latest",
    "ubuntu:22.04",
    "debian:12",
    "python:3.11-slim",
    "python:3.12-slim",
    "hello-world:latest",
    "nginx:alpine",
)
OFFICIAL_PREFIX = "golem/"


class PackageError(Exception):
    """The task package cannot be deployed (unknown hash, bad format, unreachable registry)."""


def image_hash(image: str) -> str:
    """The devnet's sha3-224 hash for an image name."""
    return hashlib.sha3_224(image.encode()).hexdigest()


KNOWN_HASHES = {image_hash(image): image for image in KNOWN_IMAGES}


def task_package(image: str, *, with_tag: bool = True) -> str:
    """A `golem.srv.comp.task_package` value the devnet maps back to `image`."""
    digest = image_hash(image)
    url = f"{REGISTRY}?tag={quote(image, safe='/:')}" if with_tag else f"{REGISTRY}?hash={digest}"
    return f"hash:sha3:{digest}:{url}"


def resolve_package(package: str | None) -> str:
    """The runner image for a task package; PackageError when the provider could not get it."""
    if not package:
        raise PackageError("the agreement has no golem.srv.comp.task_package")
    kind, _, rest = package.partition(":")
    algo, _, rest = rest.partition(":")
    digest, _, url = rest.partition(":")
    if kind != "hash" or not algo.startswith("sha3") or not digest:
        raise PackageError(f"malformed task package {package!r} (want hash:sha3:<hex>:<url>)")
    image = KNOWN_HASHES.get(digest.lower()) or _tagged_image(url)
    if image is None:
        raise PackageError(f"image download failed: no image with hash {digest} at {url or '?'}")
    host = registry_host(image)
    if host is not None and host.split(":", 1)[0].endswith(".invalid"):
        raise PackageError(f"image download failed: lookup {host}: no such host")
    return image


def _tagged_image(url: str) -> str | None:
    tags = parse_qs(urlsplit(url).query).get("tag")
    if not tags:
        return None
    tag = tags[0]
    return tag[len(OFFICIAL_PREFIX) :] if tag.startswith(OFFICIAL_PREFIX) else tag
