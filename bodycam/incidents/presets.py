"""Named shapes of dispatch exports: what `[incidents] preset = NAME` fills in.

A preset gives the columns, time format, zone and officer separator of a known export; any of
them set in the settings wins, and `types` (which incident types must be recorded) is always the
site's own. docs/incidents.md shows each preset as the settings it stands for; a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "axon": {  # Axon Auto-Tagging's database printout: one row per officer, ISO 8601 times with a zone
        "columns": {"incident_id": "Event ID", "officers": "Officer Badge ID",
                    "dispatched": "Officer Dispatched DateTime", "cleared": "Officer Cleared DateTime",
                    "type": "Call type"},
    },
    "jingqing": {  # a 警情 export with Chinese headers: local times, officers separated by 、
        "time_format": "%Y-%m-%d %H:%M:%S",
        "tz": "Asia/Shanghai",
        "officer_separator": "、",
        "columns": {"incident_id": "警情编号", "type": "警情类别", "received": "报警时间", "dispatched": "派警时间",
                    "arrived": "到达时间", "cleared": "处警结束时间", "officers": "处警民警警号", "unit": "处警单位",
                    "location": "发生地点", "case": "案件编号"},
    },
}
