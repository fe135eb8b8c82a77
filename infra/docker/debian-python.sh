#!/usr/bin/env bash
# A stand-in for the python:3.11-slim-bookworm base image, built from Debian's own packages: for machines that
# reach a Debian mirror and a package index but no container registry (air-gapped builders, this project's CI).
#   sudo bash infra/docker/debian-python.sh localhost/debian-python:bookworm
#   podman build -f infra/docker/Dockerfile --build-arg PYTHON=localhost/debian-python:bookworm ...
# Debian's Python is 3.11.2 where the official image pins 3.11.11; everything above it is the same Dockerfile.
set -euo pipefail
tag=${1:-localhost/debian-python:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$root" "$mirror" >/dev/null
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import --change 'CMD ["python3"]' - "$tag" >/dev/null
echo "$tag"
