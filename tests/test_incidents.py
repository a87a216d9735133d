"""Issue 18: dispatch records (警情) loaded as they are, clips linked to them by officer and time with a
reason, the queues of what belongs to nothing, and the link rate (关联率). Both databases."""

from __future__ import annotations

import json
import re
import tomllib
import typing
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bodycam.config import IncidentSettings
from bodycam.incidents.presets import PRESETS
from tests.conftest import Bodycam
from tests.media import age, make_clip


def _mappings() -> tuple[str, str]:
    """The two mappings docs/incidents.md documents, as the settings these tests run with."""
    page = (Path(__file__).parent.parent / "docs" / "incidents.md").read_text()
    _, axon, jingqing = re.findall(r"```toml\n(.*?)```", page, re.S)
    return axon, jingqing


AXON, JINGQING = _mappings()


def test_each_preset_reads_as_the_mapping_the_page_spells_out() -> None:
    page = (Path(__file__).parent.parent / "docs" / "incidents.md").read_text()
    example = re.findall(r"```toml\n(.*?)```", page, re.S)[0]
    literal, _ = typing.get_args(IncidentSettings.model_fields["preset"].annotation)
    assert typing.get_args(literal) == tuple(PRESETS)  # every preset can be named, and only those
    for name, block in (("axon", AXON), ("jingqing", JINGQING)):
        spelled = IncidentSettings(**tomllib.loads(block)["incidents"])
        site = {k: v for k, v in tomllib.loads(block)["incidents"].items() if k in ("types", "buffer_before_minutes")}
        assert IncidentSettings(preset=name, **site).model_dump(exclude={"preset"}) == spelled.model_dump(
            exclude={"preset"}), name
    own = IncidentSettings(**tomllib.loads(example)["incidents"])  # the page's example: its own zone wins
    assert own.tz == "Asia/Urumqi" and own.columns["incident_id"] == "警情编号" and own.officer_separator == "、"


def _bodycam(tmp_path: Path, db_url: str, config: str) -> Bodycam:
    (tmp_path / "bodycam.toml").write_text(config)
    bodycam = Bodycam({"BODYCAM_DATABASE_URL": db_url, "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}",
                       "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "BODYCAM_CONFIG": str(tmp_path / "bodycam.toml")})
    bodycam("init")
    (tmp_path / "officers.csv").write_text("badge,name,unit\nP1,Zhang Wei,PS-01\nP2,Li Na,PS-02\n")
    bodycam("officers", "import", str(tmp_path / "officers.csv"))
    return bodycam


def _clip(tmp_path: Path, camera: str, badge: str, when: datetime, pattern: str = "testsrc") -> None:
    age(make_clip(tmp_path / "dock" / camera / f"{camera}_{badge}_{when:%Y%m%d%H%M%S}.mp4", 1.0, pattern=pattern))


def test_an_axon_shaped_export_links_clips_by_officer_and_time_with_reasons(
        db_url: str, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    t0 = (bodycam.clock.now() - timedelta(hours=6)).replace(microsecond=0, second=0)
    _clip(tmp_path, "CAM1", "P1", t0 + timedelta(minutes=2))                      # on the call
    _clip(tmp_path, "CAM2", "P2", t0 - timedelta(minutes=3), "testsrc2")          # self-initiated: in the buffer
    _clip(tmp_path, "CAM3", "P1", t0 + timedelta(hours=2), "smptebars")           # belongs to nothing
    bodycam("ingest", "run", str(tmp_path / "dock"), "--source-tz", "UTC")
    clips = {c["officer"] + c["start"][11:16]: c["id"] for c in bodycam.json("clips", "search")}
    on_call = clips[f"P1{t0 + timedelta(minutes=2):%H:%M}"]
    early = clips[f"P2{t0 - timedelta(minutes=3):%H:%M}"]
    stray = clips[f"P1{t0 + timedelta(hours=2):%H:%M}"]
    z = "Z"
    export = tmp_path / "cad.csv"
    export.write_text(  # Axon's database printout: one row per officer, extra columns ignored
        "Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type,Priority\n"
        f"E-100,P1,{t0:%Y-%m-%dT%H:%M:%S}{z},{t0 + timedelta(minutes=30):%Y-%m-%dT%H:%M:%S}{z},DOMESTIC,1\n"
        f"E-100,P2,{t0:%Y-%m-%dT%H:%M:%S}{z},{t0 + timedelta(minutes=40):%Y-%m-%dT%H:%M:%S}{z},DOMESTIC,1\n"
        f"E-200,P1,{t0 + timedelta(hours=4):%Y-%m-%dT%H:%M:%S}{z},"
        f"{t0 + timedelta(hours=4, minutes=20):%Y-%m-%dT%H:%M:%S}{z},NOISE,3\n")
    done = bodycam.json("incidents", "import", str(export))
    assert (done["incidents"], done["created"], done["required_recordings"], done["linked"]) == (2, 2, 1, 2)

    shown = bodycam.json("incidents", "show", "E-100")
    assert shown["scenario"] == "dispatch" and [o["officer"] for o in shown["officers"]] == ["P1", "P2"]
    links = {c["clip"]: c for c in shown["clips"]}
    assert set(links) == {on_call, early} and {c["rule"] for c in links.values()} == {"officer_window"}
    assert "officer P2's recording" in links[early]["reason"] and "5 min before" in links[early]["reason"]
    assert bodycam.json("incidents", "show", "E-200")["scenario"] is None  # NOISE is no required recording

    span = ["--from", (t0 - timedelta(hours=1)).isoformat(), "--to", (t0 + timedelta(hours=5)).isoformat()]
    queue = bodycam.json("incidents", "queue", *span)
    assert [c["clip"] for c in queue["unlinked_clips"]] == [stray]
    assert [i["incident"] for i in queue["incidents_without_footage"]] == ["E-200"]
    for unit, waiting in (("PS-01", ["E-200"]), ("PS-02", [])):  # the export names no unit: the officers' do
        unit_queue = bodycam.json("incidents", "queue", *span, "--unit", unit)
        assert [i["incident"] for i in unit_queue["incidents_without_footage"]] == waiting, unit
    assert queue["link_rate"] == round(2 / 3, 4)
    assert {r["unit"]: (r["clips"], r["linked"]) for r in queue["by_unit"]} == {"PS-01": (2, 1), "PS-02": (1, 1)}
    report = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert sorted((u["event_id"], u["officer"]) for u in report["events"]) == [("E-100", "P1"), ("E-100", "P2")]
    assert report["links"]["link_rate"] == queue["link_rate"] and report["links"]["incidents_without_footage"] == 1
    unit_report = bodycam.json("gaps", "report", *span, "--unit", "PS-02", ok=(0, 4))  # its own links only
    assert [(r["unit"], r["clips"]) for r in unit_report["links"]["by_unit"]] == [("PS-02", 1)]
    assert (unit_report["links"]["link_rate"], unit_report["links"]["incidents_without_footage"]) == (1.0, 0)
    html = bodycam("gaps", "report", *span, "--format", "html", check=False).stdout
    assert "Footage linked to incidents and cases" in html and "66.7" in html

    _clip(tmp_path, "CAM4", "P1", t0 + timedelta(hours=4, minutes=1), "rgbtestsrc")  # late footage
    late = bodycam.json("ingest", "run", str(tmp_path / "dock"), "--source-tz", "UTC")
    assert late["incident_links"] == 1
    assert len(bodycam.json("incidents", "show", "E-200")["clips"]) == 1

    bodycam("--actor", "clerk Wang", "incidents", "unlink", "E-100", str(early), "--reason", "a different stop")
    bodycam("incidents", "relink")
    shown = {c["clip"]: c for c in bodycam.json("incidents", "show", "E-100")["clips"]}
    assert shown[early]["unlinked_at"] and "different stop" in shown[early]["unlink_reason"]  # not linked again
    bodycam("incidents", "link", "E-100", str(stray), "--reason", "the officer's follow-up")
    manual = {c["clip"]: c for c in bodycam.json("incidents", "show", "E-100")["clips"]}[stray]
    assert manual["rule"] == "manual"
    custody = [c["action"] for c in bodycam.json("clips", "show", str(early))["custody"]]
    assert custody.count("incident.link") == 1 and "incident.unlink" in custody
    assert bodycam("audit", "verify").exit_code == 0

    bad = tmp_path / "bad.csv"
    bad.write_text("Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type\n"
                   f"E-300,P1,{t0:%Y-%m-%dT%H:%M:%S}Z,{t0:%Y-%m-%dT%H:%M:%S}Z,DOMESTIC\n")
    result = bodycam("incidents", "import", str(bad), check=False)
    assert result.exit_code == 50
    assert f"{bad}:2: field 'Officer Cleared DateTime'" in result.stderr and "not after the dispatch" in result.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type\n"
                       f"E-400,P9,{t0:%Y-%m-%dT%H:%M:%S}Z,{t0 + timedelta(minutes=5):%Y-%m-%dT%H:%M:%S}Z,DOMESTIC\n")
    result = bodycam("incidents", "import", str(unknown), check=False)
    assert result.exit_code == 50 and "unknown badge 'P9'" in result.stderr
    listed = bodycam.json("incidents", "list", *span)
    assert [i["incident"] for i in listed] == ["E-100", "E-200"]  # nothing of the refused files was written


def test_a_jingqing_export_with_chinese_headers_loads_as_it_is(db_url: str, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = _bodycam(tmp_path, db_url, JINGQING)
    shanghai = ZoneInfo("Asia/Shanghai")
    t0 = (bodycam.clock.now() - timedelta(hours=6)).astimezone(shanghai).replace(microsecond=0, second=0)
    _clip(tmp_path, "CAM1", "P1", t0.astimezone(ZoneInfo("UTC")) + timedelta(minutes=10))
    bodycam("ingest", "run", str(tmp_path / "dock"), "--source-tz", "UTC")
    f = "%Y-%m-%d %H:%M:%S"
    export = tmp_path / "jingqing.csv"
    export.write_text(
        "警情编号,警情类别,报警时间,派警时间,到达时间,处警结束时间,处警民警警号,处警单位,发生地点,案件编号,报警人\n"
        f"JQ-1,盗窃,{t0 - timedelta(minutes=2):{f}},{t0:{f}},{t0 + timedelta(minutes=8):{f}},"
        f"{t0 + timedelta(minutes=50):{f}},P1、P2,PS-01,解放路 12 号,XS-2026-9,王某\n", encoding="utf-8")
    done = bodycam.json("incidents", "import", str(export))
    assert (done["created"], done["required_recordings"], done["linked"]) == (1, 1, 1)
    shown = bodycam.json("incidents", "show", "JQ-1")
    assert datetime.fromisoformat(shown["start"]) == t0  # Shanghai time read as such
    assert shown["location"] == "解放路 12 号" and [o["officer"] for o in shown["officers"]] == ["P1", "P2"]
    code = bodycam("cases", "check", "XS-2026-9", "--format", "json", check=False)
    problems = json.loads(code.stdout)["problems"]
    assert code.exit_code == 4 and any("not linked" in p["what"] for p in problems)  # its case needs the footage


def test_a_json_export_reads_like_the_csv_and_a_bad_item_names_itself(db_url: str, tmp_path: Path) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    t0 = datetime(2026, 11, 20, 8, 0)
    items = [{"Event ID": "E-1", "Officer Badge ID": "P1", "Officer Dispatched DateTime": f"{t0.isoformat()}Z",
              "Officer Cleared DateTime": f"{(t0 + timedelta(minutes=9)).isoformat()}Z", "Call type": "DOMESTIC",
              "Disposition": "resolved"}]
    export = tmp_path / "cad.json"
    export.write_text(json.dumps(items))
    done = bodycam.json("incidents", "import", str(export))
    assert (done["created"], done["required_recordings"]) == (1, 1)
    assert bodycam.json("incidents", "show", "E-1")["end"].startswith("2026-11-20T08:09:00")
    items.append({**items[0], "Event ID": "E-2", "Officer Dispatched DateTime": "yesterday"})
    export.write_text(json.dumps(items))
    result = bodycam("incidents", "import", str(export), check=False)
    assert result.exit_code == 50 and f"{export}: item 1: field 'Officer Dispatched DateTime'" in result.stderr
    assert [i["incident"] for i in bodycam.json("incidents", "list", "--from", "2026-11-19", "--to", "2026-11-21")] \
        == ["E-1"]


def test_relink_after_the_buffer_changed_links_day_by_day_and_only_the_period_asked(
        db_url: str, tmp_path: Path, ffmpeg: str) -> None:
    strict = AXON.replace("buffer_before_minutes = 5", "buffer_before_minutes = 0")
    assert strict != AXON
    bodycam = _bodycam(tmp_path, db_url, strict)
    t0 = (bodycam.clock.now() - timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    rows = ["Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type"]
    for day, pattern in enumerate(("testsrc", "testsrc2", "smptebars")):
        dispatched = t0 + timedelta(days=day)
        _clip(tmp_path, f"CAM{day}", "P1", dispatched - timedelta(minutes=3), pattern)  # a self-initiated stop
        cleared = dispatched + timedelta(minutes=20)
        rows.append(f"E-{day},P1,{dispatched:%Y-%m-%dT%H:%M:%S}Z,{cleared:%Y-%m-%dT%H:%M:%S}Z,DOMESTIC")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--source-tz", "UTC")
    (tmp_path / "cad.csv").write_text("\n".join(rows) + "\n")
    assert bodycam.json("incidents", "import", str(tmp_path / "cad.csv"))["linked"] == 0  # outside a 0 buffer

    (tmp_path / "bodycam.toml").write_text(AXON)  # the unit now allows the 5 minutes Axon recommends
    first_day = bodycam("incidents", "relink", "--from", t0.isoformat(),
                        "--to", (t0 + timedelta(days=1)).isoformat())
    assert first_day.stdout.strip() == "1 new link(s) by rule"
    assert [len(bodycam.json("incidents", "show", f"E-{d}")["clips"]) for d in range(3)] == [1, 0, 0]
    assert bodycam("incidents", "relink").stdout.strip() == "2 new link(s) by rule"
    assert bodycam("incidents", "relink").stdout.strip() == "0 new link(s) by rule"
    assert [len(bodycam.json("incidents", "show", f"E-{d}")["clips"]) for d in range(3)] == [1, 1, 1]


def test_a_corrected_export_updates_incidents_and_their_required_recordings_in_place(
        db_url: str, tmp_path: Path) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    t0 = datetime(2026, 11, 2, 8, 0, tzinfo=ZoneInfo("UTC"))
    head = "Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type\n"

    def row(number: str, badge: str, minutes: int, kind: str) -> str:
        return (f"{number},{badge},{t0:%Y-%m-%dT%H:%M:%S}Z,{t0 + timedelta(minutes=minutes):%Y-%m-%dT%H:%M:%S}Z,"
                f"{kind}\n")

    export = tmp_path / "cad.csv"
    export.write_text(head + row("E-1", "P1", 30, "DOMESTIC") + row("E-1", "P2", 40, "DOMESTIC")
                      + row("E-2", "P2", 20, "DOMESTIC"))
    first = bodycam.json("incidents", "import", str(export))
    assert (first["created"], first["updated"], first["required_recordings"]) == (2, 0, 2)
    again = bodycam.json("incidents", "import", str(export))
    assert (again["created"], again["updated"]) == (0, 0)
    assert len(bodycam.json("events", "list")) == 2  # not twice

    export.write_text(head + row("E-1", "P1", 45, "DOMESTIC") + row("E-2", "P2", 20, "NOISE"))  # corrected
    fixed = bodycam.json("incidents", "import", str(export))
    assert (fixed["created"], fixed["updated"], fixed["required_recordings"]) == (0, 2, 1)
    e1 = bodycam.json("incidents", "show", "E-1")
    assert [(o["officer"], o["cleared"][11:16]) for o in e1["officers"]] == [("P1", "08:45")]  # P2 taken off
    events = bodycam.json("events", "list")
    assert [(e["event_id"], e["officers"], e["end"][11:16]) for e in events] == [("E-1", ["P1"], "08:45")]

    (tmp_path / "events.csv").write_text("event_id,scenario,start,end,officers,unit,case_id,location\n"
                                         f"E-9,dispatch,{t0.isoformat()},{(t0 + timedelta(minutes=5)).isoformat()},"
                                         "P1,,,\n")
    bodycam("events", "import", str(tmp_path / "events.csv"))
    export.write_text(head + row("E-9", "P1", 10, "DOMESTIC"))
    clash = bodycam("incidents", "import", str(export), check=False)
    assert clash.exit_code == 50 and "incident E-9: an event with this id was imported on its own" in clash.stderr
    listed = bodycam.json("incidents", "list", "--from", t0.isoformat(), "--to", (t0 + timedelta(days=1)).isoformat())
    assert [i["incident"] for i in listed] == ["E-1", "E-2"]  # nothing written
