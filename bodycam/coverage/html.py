"""The coverage report as one self-contained HTML file: no scripts, no network.

Summary tables, then for each required recording with findings a timeline: the
required window, the footage over it, and the findings in colour.
"""

from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import Any

from bodycam.coverage.engine import Report, Unit_
from bodycam.coverage.render import SUMMARY_COLUMNS, names_of, percent, summary_rows
from bodycam.timeutil import show

COLOURS = {"no_footage": "#c0392b", "late_start": "#e67e22", "early_stop": "#e67e22", "interrupted": "#d35400",
           "discontinuity": "#8e44ad", "late_upload": "#2980b9", "unreadable": "#7f8c8d",
           "missing_file": "#8e44ad", "audio_only": "#16a085", "analysis_pending": "#bdc3c7",
           "analysis_failed": "#95a5a6"}

LABELS = {"fully_covered": "full", "with_footage": "any footage", "activation": "activ.",
          "required_seconds": "req. s", "covered_seconds": "cov. s", "coverage": "cov.", "reviewed": "rev.",
          "unreviewed": "unrev.", "violations": "viol."}
"""Short headers, so that a summary fits an A4 page (the full name is the header's title)."""

STYLE = """
@page{size:A4;margin:12mm}
body{font:12px/1.35 system-ui,sans-serif;margin:16px;color:#222;max-width:100%;overflow-wrap:anywhere}
h1{font-size:18px}h2{font-size:14px;margin-top:22px}
table{border-collapse:collapse;margin:6px 0;font-size:11px;width:100%}
td,th{border:1px solid #ccc;padding:2px 4px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f3f3;font-weight:600;overflow-wrap:normal}.num{text-align:right;white-space:nowrap}.ok{color:#1e8449}.bad{color:#c0392b}
.warn{background:#fdf2d0;border:1px solid #e0b000;padding:6px 10px}
.event{margin:12px 0;padding:6px;border:1px solid #ddd;border-radius:4px;break-inside:avoid}
.event svg{width:100%;height:auto;display:block}
.legend span{display:inline-block;margin-right:10px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
"""


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th title=\"{escape(c)}\">{escape(LABELS.get(c, c))}</th>" for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            if isinstance(v, dict):
                v = ", ".join(f"{k} {n}" for k, n in v.items()) or "–"
            cls = ' class="num"' if isinstance(v, (int, float)) or str(v).endswith(" %") else ""
            cells.append(f"<td{cls}>{escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _timeline(u: Unit_, zone: tzinfo) -> str:
    w, h, pad = 900, 58, 10
    es, ee = u.start.timestamp(), u.end.timestamp()
    span = max(ee - es, 1.0)
    lo, hi = es - 0.1 * span, ee + 0.1 * span

    def x(t: float) -> float:
        return pad + (min(max(t, lo), hi) - lo) / (hi - lo) * (w - 2 * pad)

    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="timeline">',
             f'<rect x="{x(es):.1f}" y="6" width="{x(ee) - x(es):.1f}" height="14" fill="#eee" stroke="#999"/>',
             f'<text x="{x(es):.1f}" y="54" font-size="11">{escape(show(u.start, zone))}</text>',
             f'<text x="{x(ee):.1f}" y="54" font-size="11" text-anchor="end">{escape(show(u.end, zone))}</text>']
    for clip_id, a, b in u.footage:
        parts.append(f'<rect x="{x(a):.1f}" y="24" width="{max(x(b) - x(a), 1):.1f}" height="12" fill="#27ae60">'
                     f"<title>clip {clip_id}</title></rect>")
    for f in u.findings:
        a, b = x(f.start.timestamp()), x(f.end.timestamp())
        parts.append(f'<rect x="{a:.1f}" y="6" width="{max(b - a, 2):.1f}" height="14" fill="{COLOURS[f.kind]}" '
                     f'opacity="0.75"><title>{escape(f.kind)} {f.seconds:g} s</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _links(r: Report) -> str:
    """The queues beside the findings: footage linked to no incident and no case, incidents without footage,
    and the link rate per unit (关联率)."""
    if r.links is None:
        return ""
    x = r.links
    rows = [{**u, "link_rate": percent(u["link_rate"])} for u in x["by_unit"]]
    return (f'<h2>Footage linked to incidents and cases</h2><p>Link rate {percent(x["link_rate"])} of '
            f'{x["clips"]} clip(s); {x["unlinked_clips"]} linked to no incident and no case; '
            f'{x["incidents_without_footage"]} incident(s) without footage (<code>bodycam incidents queue</code>).</p>'
            + _table(rows, ["unit", "clips", "to_incident", "to_case", "unlinked", "link_rate"]))


def render_html(r: Report, zone: tzinfo) -> str:
    findings = r.findings
    legend = "".join(f'<span><i class="sw" style="background:{c}"></i>{k}</span>' for k, c in COLOURS.items())
    events = []
    for u in r.units:
        if not u.findings:
            continue
        items = "".join(f"<li><b>{escape(f.kind)}</b> <code>{escape(f.id)}</code> "
                        f"<i>{escape(f.review or 'unreviewed')}</i> "
                        f"{escape(show(f.start, zone))} – {escape(show(f.end, zone))}"
                        f" ({f.seconds:g} s){' clips ' + escape(', '.join(map(str, f.clips))) if f.clips else ''}"
                        f"{' – ' + escape(f.detail) if f.detail else ''}</li>" for f in u.findings)
        who = names_of(u.officer, r.names) or u.officer
        events.append(f'<div class="event"><b>{escape(u.event_id)}</b> {escape(u.scenario)} · officer '
                      f"{escape(who)} · unit {escape(u.unit or '–')} · covered {u.covered:.0f} of "
                      f"{u.required:.0f} s{_timeline(u, zone)}<ul>{items}</ul></div>")
    cols = SUMMARY_COLUMNS
    warnings = "".join(f'<p class="warn">Warning: {escape(w)}</p>' for w in r.warnings)
    status = warnings or (f'<p class="bad">{len(findings)} finding(s)</p>' if findings
                          else '<p class="ok">No findings.</p>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bodycam coverage report</title>
<style>{STYLE}</style></head><body>
<h1>Coverage report {escape(show(r.start, zone))} – {escape(show(r.end, zone))}</h1>
<p>{len(r.units)} required recording(s).</p>{status}
<h2>By officer</h2>{_table(summary_rows(r, "officer"), ["officer", *cols])}
<h2>By unit</h2>{_table(summary_rows(r, "unit"), ["unit", *cols])}
<h2>By scenario</h2>{_table(summary_rows(r, "scenario"), ["scenario", *cols])}
{_links(r)}
<h2>Events with findings</h2><p class="legend"><span><i class="sw" style="background:#27ae60"></i>footage</span>
<span><i class="sw" style="background:#eee;border:1px solid #999"></i>required window</span>{legend}</p>
{''.join(events) or '<p>None.</p>'}
</body></html>"""
