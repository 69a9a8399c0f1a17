"""Linux network namespaces for the lab: a gateway and a device, joined by one veth pair.

The pair is created inside the gateway namespace with its peer moved straight into
the device namespace, so neither end ever exists in the host's namespace: the
device's only path anywhere is the gateway, and the gateway has no interface but
that veth and its loopback (no route out, nothing to forward to).

Sockets the bench opens inside a namespace are made on a short-lived thread that
has joined it (``setns`` changes only the calling thread); a socket stays in the
namespace it was made in, so the bench process serves the lab without leaving
its own namespace.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ...drivers.errors import BrewbenchError

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
COMMAND_TIMEOUT_S = 10.0
#: The lab's own link, from the range set aside for network benchmarking (RFC 2544,
#: 198.18.0.0/15): routed nowhere on the Internet, so nothing here can be mistaken for
#: a real host.
GATEWAY_IP = "198.18.0.1"
DEVICE_IP = "198.18.0.2"
PREFIX = 30
GATEWAY_IF = "lab0"
DEVICE_IF = "eth0"
T = TypeVar("T")


class LabNetworkError(BrewbenchError, RuntimeError):
    """The lab network could not be set up (no root, no ``ip``, a command refused)."""


def missing_tools() -> list[str]:
    """The programs the lab needs that are not on PATH."""
    return [tool for tool in ("ip", "nft", "dnsmasq") if shutil.which(tool) is None]


def run(command: Sequence[str], stdin: str | None = None) -> str:
    """Run one set-up command; its stdout.

    Raises:
        LabNetworkError: the command is missing, failed or hung (with its stderr).
    """
    try:
        done = subprocess.run(list(command), input=stdin, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabNetworkError(f"{' '.join(command[:4])}: {exc}") from exc
    if done.returncode != 0:
        raise LabNetworkError(f"{' '.join(command[:6])}: {done.stderr.strip()[:400]}")
    return done.stdout


def in_namespace(name: str, make: Callable[[], T]) -> T:
    """``make()`` called on a thread that has joined namespace ``name``; its result.

    Raises:
        LabNetworkError: the namespace cannot be joined.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def joined() -> None:
        try:
            _setns(NETNS_DIR / name)
            result.append(make())
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=joined, name=f"netns {name}", daemon=True)
    thread.start()
    thread.join()
    if failure:
        if isinstance(failure[0], LabNetworkError | OSError):
            raise failure[0]
        raise LabNetworkError(f"in namespace {name}: {failure[0]}") from failure[0]
    return result[0]


def socket_in(name: str, kind: int) -> socket.socket:
    """A new IPv4 socket (``SOCK_STREAM`` or ``SOCK_DGRAM``) that lives in namespace ``name``."""
    return in_namespace(name, lambda: socket.socket(socket.AF_INET, kind))


def _setns(path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise LabNetworkError(f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LabNamespaces:
    """The two namespaces of one lab; ``create`` them, ``destroy`` when done."""

    gateway: str
    device: str

    @classmethod
    def fresh(cls) -> LabNamespaces:
        token = secrets.token_hex(4)
        return cls(f"bblab-gw-{token}", f"bblab-dev-{token}")

    def create(self) -> None:
        """Both namespaces, the veth between them, addresses and the device's default route.

        Raises:
            LabNetworkError: a step failed (whatever was made is removed again).
        """
        try:
            for name in (self.gateway, self.device):
                run(["ip", "netns", "add", name])
                run(["ip", "-n", name, "link", "set", "lo", "up"])
                # IPv4 only: the lab has no IPv6 rules, so the device gets no IPv6 at all.
                run(["ip", "netns", "exec", name, "sh", "-c",
                     "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6"])
            run(["ip", "-n", self.gateway, "link", "add", GATEWAY_IF, "type", "veth",
                 "peer", "name", DEVICE_IF, "netns", self.device])
            run(["ip", "-n", self.gateway, "addr", "add", f"{GATEWAY_IP}/{PREFIX}", "dev", GATEWAY_IF])
            run(["ip", "-n", self.device, "addr", "add", f"{DEVICE_IP}/{PREFIX}", "dev", DEVICE_IF])
            run(["ip", "-n", self.gateway, "link", "set", GATEWAY_IF, "up"])
            run(["ip", "-n", self.device, "link", "set", DEVICE_IF, "up"])
            run(["ip", "-n", self.device, "route", "add", "default", "via", GATEWAY_IP])
        except LabNetworkError:
            self.destroy()
            raise

    def destroy(self) -> None:
        """Remove both namespaces (their veth goes with them); never raises."""
        for name in (self.device, self.gateway):
            if (NETNS_DIR / name).exists():
                subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False,
                               timeout=COMMAND_TIMEOUT_S)

    def exists(self) -> bool:
        return any((NETNS_DIR / name).exists() for name in (self.gateway, self.device))

    def interfaces(self, name: str) -> list[str]:
        """The interface names in namespace ``name`` (to show the lab has no way out)."""
        out = run(["ip", "-n", name, "-o", "link", "show"])
        return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]

    def exec_prefix(self, name: str) -> list[str]:
        """The command prefix that runs a program inside namespace ``name``."""
        return ["ip", "netns", "exec", name]


__all__ = ["DEVICE_IF", "DEVICE_IP", "GATEWAY_IF", "GATEWAY_IP", "LabNamespaces", "LabNetworkError",
           "in_namespace", "missing_tools", "run", "socket_in"]
