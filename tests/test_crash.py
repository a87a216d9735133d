"""Crash safety: SIGKILL a real `bodycam ingest run` at many points, restart, check.

After every kill and after the recovery run: each source file is either still at
the source, byte for byte, or indexed once with an object whose SHA-256 matches
(and only then released); every object version in the store is a clip's or is
recorded as abandoned on its ingest item. Runs on the embedded default and on
PostgreSQL with Ceph RGW.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bodycam.config import load_settings
from bodycam.db.engine import Database
from bodycam.db.models import Clip, IngestItem
from bodycam.store import ObjectStore, open_store
from tests.conftest import run_bodycam, store_env
from tests.media import age, make_clip

FAILPOINTS = [
    ("after_claim", 1), ("after_claim", 5), ("mid_upload", 1), ("mid_upload", 2), ("mid_upload", 6),
    ("after_store", 1), ("after_store", 4), ("before_index", 1), ("before_index", 4),
    ("before_index", 2), ("after_index", 1), ("after_index", 6), ("before_release", 1), ("before_release", 3),
    ("mid_upload", 14), ("mid_upload", 18),  # late reads: likely inside the big file, with chunks in flight
]
TIMED_KILLS = 10


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """A camera dump: eight short clips, a duplicate, and one file bigger than a multipart
    part and than the local store's copy buffer (so kills land with chunks in flight)."""
    root = tmp_path_factory.mktemp("dump") / "CAM-K1"
    patterns = ["testsrc", "testsrc2", "smptebars", "rgbtestsrc", "yuvtestsrc", "pal75bars", "smptehdbars",
                "colorspectrum"]
    for i, pattern in enumerate(patterns):
        make_clip(root / f"CAM-K1_P100_2026110108{i:02d}00.mp4", 1.0, pattern=pattern)
    shutil.copyfile(root / "CAM-K1_P100_20261101080000.mp4", root / "copy-of-first.mp4")
    (root / "CAM-K1_P100_20261101090000.bin").write_bytes(random.Random(7).randbytes(20 * 1024 * 1024))
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(db: Database, store: ObjectStore, sources: dict[Path, str], final: bool) -> None:
    with db.read() as s:
        clips = {c.sha256: c for c in s.scalars(select(Clip))}
        items = s.scalars(select(IngestItem)).all()
    for path, sha in sources.items():
        if path.exists():
            assert digest(path) == sha, f"{path} changed at the source"
            assert not final, f"{path} was never ingested and released"
        else:
            assert sha in clips, f"{path} released but not indexed"
        if sha in clips:
            clip = clips[sha]
            assert store.verify(clip.store_key, clip.store_version, sha) == clip.size
    by_path: dict[str, int] = {}
    for item in items:
        if item.state in ("indexed", "released"):
            by_path[item.source_path] = by_path.get(item.source_path, 0) + 1
    assert all(n == 1 for n in by_path.values()), by_path
    known_versions = {(c.store_key, c.store_version) for c in clips.values()}
    known_keys = {i.store_key for i in items if i.store_key}
    for item in items:
        known_versions |= {(a["key"], a["version"]) for a in item.abandoned or []}
    for key, version, _ in store.list("clips/"):
        if final:
            assert (key, version) in known_versions, f"orphan object {key} {version}"
        else:
            assert key in known_keys, f"object {key} belongs to no ingest item"
    if final:
        assert {i.state for i in items} == {"released"}
        assert len(clips) == len(set(sources.values()))


def scenario(tmp: Path, dump: Path, env: dict[str, str], kill: tuple[str, int] | float) -> bool:
    """One crash and one recovery; returns True if the process really died by SIGKILL."""
    dock = tmp / "dock"
    shutil.copytree(dump, dock / dump.name)
    age(*(dock / dump.name).iterdir())
    sources = {p: digest(p) for p in (dock / dump.name).iterdir()}
    settings = load_settings(environ=env).settings
    db, store = Database(settings.database_url), open_store(settings)
    args = [sys.executable, "-m", "bodycam", "ingest", "run", str(dock), "--release", "delete", "--format", "json"]
    if isinstance(kill, tuple):
        proc = subprocess.run(args, env={**env, "BODYCAM_FAILPOINT": f"{kill[0]}:{kill[1]}"},
                              capture_output=True, text=True, timeout=300)
        killed = proc.returncode == -signal.SIGKILL
        assert killed, f"failpoint {kill} never reached: {proc.returncode} {proc.stderr}"
    else:
        with subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as p:
            time.sleep(kill)
            p.send_signal(signal.SIGKILL)
            killed = p.wait() == -signal.SIGKILL
    check(db, store, sources, final=False)
    rec = run_bodycam("ingest", "run", str(dock), "--release", "delete", env=env)
    assert rec.returncode == 0, rec.stderr
    check(db, store, sources, final=True)
    assert run_bodycam("audit", "verify", env=env).returncode == 0
    db.dispose()
    return killed


@pytest.mark.parametrize("combo", ["sqlite-file", "postgresql-s3"])
def test_sigkill_anywhere_loses_nothing(combo: str, tmp_path: Path, dump: Path,
                                        request: pytest.FixtureRequest) -> None:
    from tests.conftest import _pg_schema_url

    kills = 0
    rng = random.Random(2026)
    plan: list[tuple[str, int] | float] = list(FAILPOINTS)
    for n in range(len(FAILPOINTS) + TIMED_KILLS):
        if n == len(FAILPOINTS):  # kill at random moments within a measured clean run
            took = _clean_run_seconds(tmp_path / "baseline", dump, combo, request)
            plan += [rng.uniform(0.45, 0.95) * took for _ in range(TIMED_KILLS)]
        kill = plan[n]
        tmp = tmp_path / f"s{n}"
        tmp.mkdir()
        base = {k: v for k, v in os.environ.items() if not k.startswith("BODYCAM_")}
        base.update(store_env(combo.split("-")[1], tmp, request), XDG_CONFIG_HOME=str(tmp),
                    BODYCAM_STORE_PART_SIZE_MB="5", BODYCAM_INGEST_WORKERS="2", BODYCAM_ACTOR="crash-test")
        if combo.startswith("sqlite"):
            base["BODYCAM_DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite'}"
            kills += _run(tmp, dump, base, kill)
        else:
            for url in _pg_schema_url(request.getfixturevalue("pg_base_url")):
                kills += _run(tmp, dump, {**base, "BODYCAM_DATABASE_URL": url}, kill)
    assert kills >= 20, f"only {kills} runs were really killed"


def _run(tmp: Path, dump: Path, env: dict[str, str], kill: tuple[str, int] | float) -> bool:
    run_bodycam("init", env=env, check=True)
    return scenario(tmp, dump, env, kill)


def _clean_run_seconds(tmp: Path, dump: Path, combo: str, request: pytest.FixtureRequest) -> float:
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BODYCAM_")}
    env.update(store_env(combo.split("-")[1], tmp, request), XDG_CONFIG_HOME=str(tmp),
               BODYCAM_STORE_PART_SIZE_MB="5", BODYCAM_INGEST_WORKERS="2")
    env["BODYCAM_DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite'}"
    run_bodycam("init", env=env, check=True)
    shutil.copytree(dump, tmp / "dock" / dump.name)
    age(*(tmp / "dock" / dump.name).iterdir())
    started = time.monotonic()
    run_bodycam("ingest", "run", str(tmp / "dock"), "--release", "delete", env=env, check=True)
    return time.monotonic() - started


def test_a_file_that_kills_its_reader_does_not_stop_the_dock(bodycam_env: dict[str, str], tmp_path: Path,
                                                              ffmpeg: str) -> None:
    """A file FFmpeg dies on (simulated: every process that probes it is killed) kills one pass; the
    next pass reads it in a child, which dies instead, and stores it flagged. The dock goes on."""
    dock = tmp_path / "dock" / "CAM-P1"
    poison = make_clip(dock / "CAM-P1_P100_20261101080000.mp4", 1.0)
    age(poison)
    env = {**bodycam_env, "BODYCAM_FAILPOINT": "probe:1"}
    run_bodycam("init", env=bodycam_env, check=True)
    first = run_bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete", env=env)
    assert first.returncode == -signal.SIGKILL and poison.exists()
    second = run_bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete", "--format", "json",
                         env=env)
    assert second.returncode == 0, second.stderr
    assert not poison.exists()  # stored, verified, indexed: released
    shown = run_bodycam("clips", "search", "--format", "json", env=bodycam_env, check=True)
    (clip,) = json.loads(shown.stdout)
    assert "unreadable" in clip["flags"] and "analysis_pending" not in clip["flags"], clip
    detail = run_bodycam("clips", "show", str(clip["id"]), "--format", "json", env=bodycam_env, check=True)
    assert "FFmpeg crashed reading this file (signal 9)" in detail.stdout
