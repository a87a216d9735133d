"""Issue 17: three dock hosts and two analysis hosts, one PostgreSQL, one S3 store, over veth links.

Each host is a network namespace with its own hostname (tests/hosts.py). Dock host 1 dies
(SIGKILL) in the middle of its pass, with a file stored and not yet indexed, and comes back;
analysis host 2 dies for good while it holds a job. Both at fault points, so that every run kills
at the same moment. Afterwards: every file indexed exactly once and released only
once stored and verified, every analysis job done once, the audit chain intact, every stored
object's bytes matching its index entry.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bodycam.db.engine import Database
from bodycam.db.models import AnalysisJob, AuditEvent, Clip, IngestItem
from tests.conftest import require, run_bodycam, s3_env
from tests.hosts import MACHINE, Network
from tests.media import distinct_dock
from tests.pgserver import PrivatePostgres

FILES = 25


@pytest.fixture
def network() -> Iterator[Network]:
    net = Network()
    yield net
    net.close()


def _forward(port: int, to: str) -> subprocess.Popen[bytes]:
    """The store, reached at the machine's bridge address (the shared RGW listens on loopback only)."""
    require(shutil.which("socat") is not None, "socat (./run test installs it)")
    return subprocess.Popen(["socat", f"TCP-LISTEN:{port},bind={MACHINE},fork,reuseaddr", f"TCP:{to}"])


def _until(ok: Callable[[], bool], seconds: float, what: str, state: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + seconds
    while not ok():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}\n{state()}"
        time.sleep(0.2)


def _config(path: Path, db_url: str, endpoint: str, bucket: str, dock: Path | None) -> Path:
    s3 = s3_env()
    text = (f'log_format = "json"\n[database]\nurl = "{db_url}"\n'
            f'[store]\nurl = "s3://{bucket}"\nendpoint = "{endpoint}"\n'
            f'access_key = "{s3["BODYCAM_STORE_ACCESS_KEY"]}"\n'
            f'secret_key = "{s3["BODYCAM_STORE_SECRET_KEY"]}"\nregion = "{s3["BODYCAM_STORE_REGION"]}"\n'
            '[service]\nlisten = "off"\nanalysis = false\n[analysis]\nworkers = 1\nlease_seconds = 4\n'
            '[ingest]\npoll_seconds = 0.5\nstable_seconds = 0\nworkers = 1\n')
    if dock is not None:
        text += f'[[ingest.sources]]\nname = "dock"\npath = "{dock}"\nkind = "dock"\nrelease = "delete"\n'
    path.write_text(text)
    return path


def test_three_dock_hosts_and_two_analysis_hosts_survive_a_host_killed_whole_and_one_lost(
        network: Network, tmp_path: Path, ffmpeg: str) -> None:
    s3 = s3_env()
    endpoint = s3["BODYCAM_STORE_ENDPOINT"].removeprefix("http://")
    docks = {name: network.add(name) for name in ("dock1", "dock2", "dock3")}
    analysers = {name: network.add(name) for name in ("ana1", "ana2")}
    pg = PrivatePostgres(listen=f"127.0.0.1,{MACHINE}")
    forward = _forward(7480, endpoint)
    bucket = f"bodycam-hosts-{uuid.uuid4().hex[:8]}"
    try:
        here = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
        admin = _config(tmp_path / "admin.toml", pg.url(), f"http://{endpoint}", bucket, None)
        run_bodycam("--config", str(admin), "init", env=here, check=True)
        remote = {"db": pg.url(MACHINE), "store": f"http://{MACHINE}:7480"}
        configs = {}
        for n, name in enumerate(docks, 1):
            dock = distinct_dock(tmp_path / name, FILES, camera=f"CAM{n}", salt=n)
            configs[name] = _config(tmp_path / f"{name}.toml", remote["db"], remote["store"], bucket, dock)
        for name in analysers:
            configs[name] = _config(tmp_path / f"{name}.toml", remote["db"], remote["store"], bucket, None)
        py = [sys.executable, "-m", "bodycam"]
        logs = tmp_path / "logs"
        logs.mkdir()

        def start(name: str, failpoint: str | None = None) -> subprocess.Popen[bytes]:
            host = network.hosts[name]
            command = ["ingest", "watch"] if name in docks else ["analyse", "watch"]
            env = {**here, **({"BODYCAM_FAILPOINT": failpoint} if failpoint else {})}
            return host.start([*py, "--config", str(configs[name]), *command], env, logs / f"{name}.log")

        # dock1 dies (SIGKILL) mid-pass, just after storing its fifth file and before indexing it; ana2 dies
        # holding its first job: at a fault point each, so the moment is the same in every run
        first_dock1 = start("dock1", "after_store:5")
        dying_ana2 = start("ana2", "analysing:1")
        for name in ("dock2", "dock3", "ana1"):
            start(name)
        db = Database(pg.url())

        def count(*where: object) -> int:
            with db.read() as s:
                return int(s.scalar(select(func.count()).select_from(Clip).join(
                    IngestItem, IngestItem.clip_id == Clip.id).where(*where)) or 0)

        _until(lambda: first_dock1.poll() is not None, 180, "dock1 killed mid-pass")
        assert first_dock1.returncode == -signal.SIGKILL
        docks["dock1"].kill()  # the rest of the host, if anything of it still runs
        assert count(IngestItem.host == "dock1") == 4, "four files indexed, the fifth stored only"
        start("dock1")  # the host comes back: the stored, unindexed file is taken over and finished once

        _until(lambda: dying_ana2.poll() is not None, 180, "ana2 killed holding a job")
        assert dying_ana2.returncode == -signal.SIGKILL
        analysers["ana2"].kill()  # for good: its job waits out the lease, then ana1 takes it
        with db.read() as s:
            held = s.scalar(select(func.count()).select_from(AnalysisJob).where(
                AnalysisJob.state == "running", AnalysisJob.claimed_by.like("ana2:%")))
        assert held == 1

        def all_done() -> bool:
            with db.read() as s:
                left = s.scalar(select(func.count()).select_from(AnalysisJob).where(AnalysisJob.state != "done"))
                jobs = s.scalar(select(func.count()).select_from(AnalysisJob))
            return not any(any((tmp_path / d).rglob("*.mp4")) for d in docks) and jobs == 3 * FILES and left == 0

        def state() -> str:
            with db.read() as s:
                jobs = s.execute(select(AnalysisJob.state, AnalysisJob.claimed_by, func.count()).group_by(
                    AnalysisJob.state, AnalysisJob.claimed_by)).all()
                items = s.execute(select(IngestItem.host, IngestItem.state, func.count()).group_by(
                    IngestItem.host, IngestItem.state)).all()
            left = {d: len(list((tmp_path / d).rglob("*.mp4"))) for d in docks}
            tails = {f.name: f.read_text()[-1500:] for f in logs.iterdir()}
            return f"jobs {jobs}\nitems {items}\nleft {left}\n" + "\n".join(f"{k}: {v}" for k, v in tails.items())

        _until(all_done, 300, "every file released and analysed", state)
        for name in ("dock1", "dock2", "dock3", "ana1"):
            assert network.hosts[name].stop() == [0], (logs / f"{name}.log").read_text()[-2000:]

        with db.read() as s:
            shas = list(s.scalars(select(Clip.sha256)))
            items = list(s.execute(select(IngestItem.host, IngestItem.state)))
            analysed = list(s.scalars(select(AuditEvent.subject).where(AuditEvent.action == "clip.analysed")))
            by_whom = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "clip.analysed")))
        db.dispose()
        assert len(shas) == len(set(shas)) == 3 * FILES, "every file indexed exactly once"
        assert sorted(items) == sorted((h, "released") for h in docks for _ in range(FILES))
        assert len(analysed) == len(set(analysed)) == 3 * FILES, "every clip's analysis recorded once"
        assert by_whom, "analysis results are audited"
        for log in logs.iterdir():
            assert "Traceback" not in log.read_text(), log
        check = run_bodycam("--config", str(admin), "check", "--verify-data", env=here)
        assert check.returncode == 0, check.stdout + check.stderr  # chain, seals, index, store and bytes agree
    finally:
        forward.terminate()
        forward.wait(timeout=10)
        pg.destroy()


def test_the_many_hosts_script_gives_each_host_its_name_and_address(tmp_path: Path) -> None:
    """deploy/many-hosts.sh, the same hosts by hand: up, run, kill, down."""
    require(os.geteuid() == 0 and shutil.which("socat") is not None, "root and socat")
    script = Path(__file__).parent.parent / "deploy" / "many-hosts.sh"
    env = {**os.environ, "FORWARD": ""}
    out = tmp_path / "seen"

    def sh(*args: str) -> None:
        subprocess.run(["bash", str(script), *args], env=env, check=True, capture_output=True, timeout=60)

    try:
        sh("up", "mh1", "mh2")
        sh("run", "mh2", "sh", "-c", f"echo $(hostname) $(ip -4 -o addr show eth0 | awk '{{print $4}}') > {out}; "
           "sleep 600")
        _until(lambda: out.exists() and out.read_text().strip() != "", 30, "the host's command")
        assert out.read_text().split() == ["mh2", "10.77.0.12/24"]
        sh("kill", "mh2")
    finally:
        sh("down")
    assert "bc-mh1" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
