"""Two training "nodes" on one machine: network namespaces joined by a veth pair, each with its own address, so
their ranks meet over a network the way two machines' do. Where the sandbox refuses namespaces (no root, no
`ip`), both nodes share the host's loopback instead, and `reason` says why."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    addr: str
    netns: str | None = None  # None: the host's own network
    ifname: str | None = None

    def command(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else argv

    def env(self) -> dict[str, str]:
        """torchrun's address for this node (PET_LOCAL_ADDR), and the interface gloo binds to."""
        env = {"PET_LOCAL_ADDR": self.addr}
        if self.ifname:
            env["GLOO_SOCKET_IFNAME"] = self.ifname
        return env


@dataclass(frozen=True)
class Nodes:
    first: Node
    second: Node
    reason: str = ""  # why they share the loopback, if they do


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextmanager
def two_nodes() -> Iterator[Nodes]:
    tag = f"llmops{os.getpid() % 100000}"
    subnet = f"10.231.{os.getpid() % 250}"
    names = (f"{tag}a", f"{tag}b")
    try:
        for name in names:
            _ip("netns", "add", name)
        _ip("link", "add", f"{tag}x", "type", "veth", "peer", "name", f"{tag}y")
        for i, (name, ifname) in enumerate(zip(names, (f"{tag}x", f"{tag}y"), strict=True), start=1):
            _ip("link", "set", ifname, "netns", name)
            _ip("-n", name, "addr", "add", f"{subnet}.{i}/24", "dev", ifname)
            _ip("-n", name, "link", "set", ifname, "up")
            _ip("-n", name, "link", "set", "lo", "up")
    except (OSError, subprocess.CalledProcessError) as err:
        _remove(names)
        why = err.stderr.strip() if isinstance(err, subprocess.CalledProcessError) else str(err)
        yield Nodes(Node("127.0.0.1"), Node("127.0.0.1"), f"no network namespaces here ({why})")
        return
    try:
        yield Nodes(Node(f"{subnet}.1", names[0], f"{tag}x"), Node(f"{subnet}.2", names[1], f"{tag}y"))
    finally:
        _remove(names)


def _remove(names: tuple[str, ...]) -> None:
    """Deleting a namespace deletes the veth end inside it, and with it the pair."""
    for name in names:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
