"""Media facts from ffprobe (duration, streams, codecs, size, rate, creation time).

A file ffprobe cannot read is still evidence: the error is returned, not raised,
and the clip is stored and flagged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from bodycam.errors import MissingTool
from bodycam.names import shown
from bodycam.timeutil import parse_time


@dataclass(frozen=True)
class MediaFacts:
    duration: float | None = None
    format_name: str | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    audio_codec: str | None = None
    creation_time: datetime | None = None
    streams: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "format": self.format_name,
            "video_codec": self.video_codec,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "audio_codec": self.audio_codec,
            "creation_time": self.creation_time.isoformat() if self.creation_time else None,
            "streams": self.streams,
        }


def require_ffprobe() -> str:
    path = shutil.which("ffprobe")
    if path is None:
        raise MissingTool("ffprobe not found: install ffmpeg (Debian: apt-get install ffmpeg)")
    return path


def _rate(text: str | None) -> float | None:
    try:
        value = float(Fraction(text)) if text else None
    except (ValueError, ZeroDivisionError):
        return None
    return value if value else None


PROBE_SECONDS = 60
"""ffprobe reads headers only; a file that keeps it busy longer is hostile or broken."""


def _ffprobe(path: Path, ffprobe: str) -> dict[str, Any]:
    """ffprobe's JSON, with a time limit (ffmpeg-python's probe has none); ffmpeg.Error on failure."""
    try:
        proc = subprocess.run([ffprobe, "-show_format", "-show_streams", "-of", "json", os.fsencode(path)],
                              capture_output=True, timeout=PROBE_SECONDS, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ffmpeg.Error("ffprobe", b"", f"ffprobe gave no answer in {PROBE_SECONDS} s".encode()) from None
    if proc.returncode != 0:
        raise ffmpeg.Error("ffprobe", proc.stdout, proc.stderr)
    data: dict[str, Any] = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    return data


def probe(path: Path, ffprobe: str = "ffprobe") -> MediaFacts:
    try:
        info = _ffprobe(path, ffprobe)
    except ffmpeg.Error as exc:
        lines = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        message = shown((lines[-1] if lines else "ffprobe failed").removeprefix(f"{path}: "))
        return MediaFacts(error=message[:500])
    fmt = info.get("format", {})
    streams = info.get("streams", [])
    if not streams:
        return MediaFacts(format_name=fmt.get("format_name"), error="no audio or video streams")
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = fmt.get("duration") or (video or {}).get("duration")
    created = (fmt.get("tags") or {}).get("creation_time") or ((video or {}).get("tags") or {}).get("creation_time")
    creation_time = None
    if created:
        try:
            creation_time = parse_time(created)
        except Exception:
            creation_time = None
    return MediaFacts(
        duration=float(duration) if duration else None,
        format_name=fmt.get("format_name"),
        video_codec=video.get("codec_name") if video else None,
        width=video.get("width") if video else None,
        height=video.get("height") if video else None,
        fps=_rate(video.get("avg_frame_rate") or video.get("r_frame_rate")) if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        creation_time=creation_time,
        streams=[
            {"index": s.get("index"), "type": s.get("codec_type"), "codec": s.get("codec_name")}
            for s in streams
        ],
    )
