"""Issue 18: the important mark (重要标记, GA/T 947), from the dock's sidecar or a clerk.

An important clip is kept as evidence is until a supervisor reviews it: the retention sweep
leaves it, the store holds it, it waits in the clerk's queue; after the review it is kept as
its cases, holds and the policy say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bodycam.config import FLOOR_DAYS
from bodycam.errors import ObjectNotFound
from tests.conftest import Bodycam
from tests.faults import expired_lock_store
from tests.media import age, make_clip


def _by_name(bodycam: Bodycam) -> dict[str, dict[str, Any]]:
    return {c["source_name"].split("_")[2][8:12]: c for c in bodycam.json("clips", "search")}


def test_an_important_clip_is_kept_until_reviewed_then_goes_by_the_policy(
        bodycam: Bodycam, tmp_path: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bodycam.app.open_store", expired_lock_store)  # S3: the store's clock cannot be moved
    bodycam("init")
    cam = tmp_path / "dock" / "CAM1"
    for hour, pattern in ((8, "testsrc"), (9, "smptebars"), (10, "rgbtestsrc"), (11, "testsrc2")):
        age(make_clip(cam / f"CAM1_P1_20260101{hour:02d}0000.mp4", 1.0, pattern=pattern))
    (cam / "CAM1_P1_20260101080000.json").write_text(json.dumps({"important": True}))
    (cam / "CAM1_P1_20260101110000.json").write_text(json.dumps({"important": "yes"}))
    age(*cam.glob("*.json"))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    clips = _by_name(bodycam)
    dock_marked, plain, clerk_marked, bad = clips["0800"], clips["0900"], clips["1000"], clips["1100"]
    assert "important" in dock_marked["flags"]
    assert "important" not in bad["flags"] and "bad_sidecar" in bad["flags"]  # only true marks; the rest is said
    store = bodycam.app().store

    def held(clip: dict[str, Any]) -> bool:
        return store.stat(clip["store_key"], clip["store_version"]).legal_hold

    assert held(dock_marked) and not held(plain)
    bodycam.advance(minutes=5)
    out = bodycam("--actor", "clerk Wang", "clips", "mark-important", str(clerk_marked["id"]), "--reason",
                  "use of force").stdout
    assert "marked important" in out and held(clerk_marked)
    assert "already marked" in bodycam("clips", "mark-important", str(clerk_marked["id"]), "--reason", "again").stdout
    queue = bodycam.json("clips", "important")
    assert [q["clip"] for q in queue] == [dock_marked["id"], clerk_marked["id"]]
    assert "clerk Wang" in queue[1]["marked"] and "use of force" in queue[1]["marked"]

    bodycam.advance(days=FLOOR_DAYS + 2)
    plan = bodycam.json("retention", "plan")
    assert sorted(d["clip"] for d in plan["due"]) == sorted([plain["id"], bad["id"]])
    assert "deleted 2 of 2" in bodycam("retention", "run").stdout
    assert store.stat(dock_marked["store_key"], dock_marked["store_version"]).size == dock_marked["size"]
    reasons = bodycam.json("clips", "show", str(dock_marked["id"]))["retention"]
    assert "marked important, not yet reviewed" in json.dumps(reasons), reasons

    out = bodycam("--actor", "supervisor Li", "clips", "review-important", str(dock_marked["id"]), "--note",
                  "routine stop, nothing of note").stdout
    assert "legal hold is off" in out and not held(dock_marked)
    again = bodycam("clips", "review-important", str(dock_marked["id"]), "--note", "twice", check=False)
    assert again.exit_code == 50 and "already reviewed" in again.stderr
    assert [q["clip"] for q in bodycam.json("clips", "important")] == [clerk_marked["id"]]
    bodycam("retention", "plan")
    assert "deleted 1 of 1" in bodycam("retention", "run").stdout
    with pytest.raises(ObjectNotFound):
        store.stat(dock_marked["store_key"], dock_marked["store_version"])
    assert held(clerk_marked)
    custody = [c["action"] for c in bodycam.json("clips", "show", str(clerk_marked["id"]))["custody"]]
    assert "clip.important" in custody
    assert bodycam("audit", "verify").exit_code == 0


def test_a_reviewed_clip_that_is_evidence_keeps_its_hold(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20260101080000.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = bodycam.json("clips", "search")
    cases = tmp_path / "cases.csv"
    cases.write_text("number,title,status\nXS-1,theft,open\n")
    bodycam("cases", "import", str(cases))
    bodycam("clips", "mark-important", str(clip["id"]), "--reason", "suspect seen")
    bodycam("cases", "link", "XS-1", str(clip["id"]), "--reason", "shows the suspect")
    out = bodycam("clips", "review-important", str(clip["id"]), "--note", "linked to XS-1").stdout
    assert "still held" in out
    store = bodycam.app().store
    assert store.stat(clip["store_key"], clip["store_version"]).legal_hold
    assert bodycam.json("clips", "important") == []


def test_an_insider_who_deletes_the_mark_in_the_database_still_cannot_have_the_clip_swept(
        bodycam: Bodycam, tmp_path: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mark's legal hold lives in the write-once store: removing the flag row with raw SQL makes the
    policy say 'due', and the store still refuses; the sweep reports the disagreement, the clip stays."""
    from sqlalchemy import text

    monkeypatch.setattr("bodycam.app.open_store", expired_lock_store)
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20260101080000.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = bodycam.json("clips", "search")
    bodycam("clips", "mark-important", str(clip["id"]), "--reason", "use of force")
    app = bodycam.app()
    with app.db.write() as s:  # the insider, straight in the database
        s.execute(text("DELETE FROM clip_flags WHERE flag = 'important'"))
    bodycam.advance(days=FLOOR_DAYS + 2)
    assert [d["clip"] for d in bodycam.json("retention", "plan")["due"]] == [clip["id"]]
    out = bodycam("retention", "run").stdout
    assert "deleted 0 of 1" in out and "policy and store disagree" in out
    assert app.store.stat(clip["store_key"], clip["store_version"]).legal_hold
