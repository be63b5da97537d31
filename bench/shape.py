"""The production shape on one machine, each piece a process on its own port under a scratch folder.

Used by ``bench/drills.py`` (the whole shape under load) and by the tests of the parts that decide correctness
(a real streaming replica, a real Sentinel failover). The configuration each piece gets here is the one
``deploy/`` documents for separate machines; only addresses, ports and folders differ.

PostgreSQL refuses to run as root: as root, its processes run as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout:.0f} s")


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in versions:
        if (directory / name).exists():
            return str(directory / name)
    return None


def postgres_available() -> bool:
    return all(pg_bin(name) for name in ("initdb", "pg_ctl", "pg_basebackup"))


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


@dataclass
class PostgresNode:
    """One PostgreSQL server (a primary, or a streaming replica of one)."""

    directory: Path
    port: int
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.directory.parent / f"{self.directory.name}.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/xyf"

    def start(self) -> None:
        _run(_as_postgres([pg_bin("pg_ctl"), "-D", str(self.directory), "-l", str(self.log), "-w", "-t", "60",
                           "-o", f"-p {self.port}", "start"]))

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_postgres([pg_bin("pg_ctl"), "-D", str(self.directory), "-m", mode, "-w", "stop"]),
                       capture_output=True)

    def restart(self) -> None:
        _run(_as_postgres([pg_bin("pg_ctl"), "-D", str(self.directory), "-l", str(self.log), "-m", "fast", "-w",
                           "-t", "60", "-o", f"-p {self.port}", "restart"]))

    def psql(self, sql: str, database: str = "postgres") -> str:
        return _run([pg_bin("psql") or "psql", "-h", HOST, "-p", str(self.port), "-U", "postgres", "-d", database,
                     "-Atqc", sql]).stdout.strip()


def make_primary(scratch: Path, port: int | None = None) -> PostgresNode:
    """initdb with the settings of deploy/postgresql/primary.conf, trust on loopback, a database ``xyf``."""
    directory = scratch / "pg-primary"
    scratch.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(scratch, "postgres")
    _run(_as_postgres([pg_bin("initdb"), "-D", str(directory), "-U", "postgres", "--auth=trust",
                       "--no-sync", "-E", "UTF8", "--locale=C"]))
    node = PostgresNode(directory, port or free_port())
    settings = (DEPLOY / "postgresql" / "primary.conf").read_text()
    settings += f"\nlisten_addresses = '{HOST}'\nunix_socket_directories = '{scratch}'\n"
    with open(directory / "postgresql.conf", "a") as conf:
        conf.write(settings)
    with open(directory / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {HOST}/32 trust\nhost replication all {HOST}/32 trust\n")
    node.start()
    node.psql("CREATE DATABASE xyf")
    return node


def make_replica(primary: PostgresNode, scratch: Path, port: int | None = None) -> PostgresNode:
    """``pg_basebackup -R``: a hot standby streaming from ``primary``."""
    directory = scratch / "pg-replica"
    _run(_as_postgres([pg_bin("pg_basebackup"), "-h", HOST, "-p", str(primary.port), "-U", "postgres",
                       "-D", str(directory), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"]))
    node = PostgresNode(directory, port or free_port())
    with open(directory / "postgresql.conf", "a") as conf:
        conf.write((DEPLOY / "postgresql" / "replica.conf").read_text())
    node.start()
    return node


def wait_replayed(primary: PostgresNode, replica: PostgresNode, timeout: float = 10.0) -> None:
    target = primary.psql("SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
            return
        time.sleep(0.05)
    raise TimeoutError("the replica did not catch up")


@dataclass
class RedisShape:
    """A Redis primary, a replica of it, and three sentinels watching them under one service name."""

    scratch: Path
    service: str = "xyf"
    processes: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)

    def start(self) -> RedisShape:
        self.scratch.mkdir(parents=True, exist_ok=True)
        primary, replica = free_port(), free_port()
        self._redis("redis-a", primary)
        self._redis("redis-b", replica, replica_of=primary)
        template = (DEPLOY / "redis" / "sentinel.conf").read_text()
        for number in range(3):
            port = free_port()
            conf = self.scratch / f"sentinel-{number}.conf"
            # Sentinel rewrites its own file as it learns: one writable copy per sentinel.
            conf.write_text(template.replace("{port}", str(port)).replace("{primary_host}", HOST)
                            .replace("{primary_port}", str(primary)).replace("{service}", self.service)
                            .replace("{dir}", str(self.scratch)))
            self._spawn(f"sentinel-{number}", port, [shutil.which("redis-server") or "redis-server", str(conf),
                                                     "--sentinel"])
        return self

    def _redis(self, name: str, port: int, replica_of: int | None = None) -> None:
        # Sentinel makes Redis rewrite its configuration file at a failover: each server gets a copy of its own.
        conf = self.scratch / f"{name}.conf"
        shutil.copyfile(DEPLOY / "redis" / "redis.conf", conf)
        command = [shutil.which("redis-server") or "redis-server", str(conf),
                   "--port", str(port), "--bind", HOST, "--dir", str(self.scratch)]
        if replica_of:
            command += ["--replicaof", HOST, str(replica_of)]
        self._spawn(name, port, command)

    def _spawn(self, name: str, port: int, command: list[str]) -> None:
        log = open(self.scratch / f"{name}.log", "a")  # noqa: SIM115 - open as long as the process runs
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        self.ports[name] = port
        wait_for_port(port)

    @property
    def sentinels(self) -> str:
        return ",".join(f"{HOST}:{self.ports[name]}" for name in self.ports if name.startswith("sentinel"))

    def primary_port(self) -> int:
        import redis

        for name, port in self.ports.items():
            if name.startswith("sentinel"):
                try:
                    _host, found = redis.Redis(HOST, port, socket_timeout=1).sentinel_get_master_addr_by_name(
                        self.service)
                    return int(found)
                except (redis.RedisError, TypeError):
                    continue
        raise RuntimeError("no sentinel knows the primary")

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until every sentinel knows the primary and the replica is in sync with it."""
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                primary = self.primary_port()
                info = redis.Redis(HOST, primary, socket_timeout=1).info("replication")
                sentinels_known = all(
                    redis.Redis(HOST, port, socket_timeout=1).sentinel_master(self.service).get("num-other-sentinels",
                                                                                              0) >= 2
                    for name, port in self.ports.items() if name.startswith("sentinel"))
                if info.get("connected_slaves", 0) >= 1 and sentinels_known:
                    return
            except (redis.RedisError, RuntimeError):
                pass
            time.sleep(0.2)
        raise TimeoutError("Redis and its sentinels did not settle")

    def kill_primary(self) -> int:
        """SIGKILL the current primary; returns its port."""
        port = self.primary_port()
        name = next(name for name, known in self.ports.items() if known == port)
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()
        return port

    def restart_as_replica(self, port: int) -> None:
        """Bring a killed server back: it rejoins as a replica of the promoted one (Sentinel reconfigures it)."""
        name = next(name for name, known in self.ports.items() if known == port)
        self._redis(name, port, replica_of=self.primary_port())

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
