"""Media facts (duration, streams, codecs, size, rate, creation time), read in-process with PyAV.

FFmpeg's own demuxers read the headers, as ffprobe would, without its 55 ms of
start-up per file. A file FFmpeg cannot read is still evidence: the error is
returned, not raised, and the clip is stored and flagged. A hostile file cannot
keep a worker (avfile.READ_SECONDS), nor, read a second time in a child after its
reader died, stop the dock (probe_isolated).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from bodycam import faults
from bodycam.avfile import READ_SECONDS, open_input
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


def _rate(value: Fraction | None) -> float | None:
    try:
        return float(value) or None if value else None
    except (ValueError, ZeroDivisionError):
        return None


def _created(*tags: dict[str, str]) -> datetime | None:
    text = next((t["creation_time"] for t in tags if t.get("creation_time")), None)
    if not text:
        return None
    try:
        return parse_time(text)
    except Exception:
        return None


def _codec(stream: Any) -> str | None:
    """The codec's name as ffprobe gives it (``h264``, not the decoder's ``libdav1d``)."""
    try:
        return str(stream.codec_context.codec.canonical_name)
    except (AttributeError, av.error.FFmpegError):
        return None


def _error(exc: av.error.FFmpegError) -> str:
    return shown(exc.strerror or str(exc) or "FFmpeg cannot read the file")[:500]


def probe(path: Path) -> MediaFacts:
    """What the file's headers say; MediaFacts.error when FFmpeg cannot read it."""
    faults.point("probe")
    try:
        container = open_input(path)
    except av.error.ExitError:
        return MediaFacts(error=f"FFmpeg gave no answer in {READ_SECONDS} s")
    except av.error.FFmpegError as exc:
        return MediaFacts(error=_error(exc))
    with container:
        streams = [s for s in container.streams if s.type in ("video", "audio", "subtitle", "data")]
        if not [s for s in streams if s.type in ("video", "audio")]:
            return MediaFacts(format_name=container.format.name, error="no audio or video streams")
        video: Any = next((s for s in streams if s.type == "video"), None)
        audio = next((s for s in streams if s.type == "audio"), None)
        if container.duration is not None:
            duration: float | None = container.duration / av.time_base
        elif video is not None and video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        else:
            duration = None
        return MediaFacts(
            duration=duration or None,
            format_name=container.format.name,
            video_codec=_codec(video) if video else None,
            width=video.codec_context.width if video else None,
            height=video.codec_context.height if video else None,
            fps=_rate(video.average_rate or video.base_rate) if video else None,
            audio_codec=_codec(audio) if audio else None,
            creation_time=_created(dict(container.metadata), dict(video.metadata) if video else {}),
            streams=[{"index": s.index, "type": s.type, "codec": _codec(s)} for s in container.streams],
        )


def _facts_from(data: dict[str, Any]) -> MediaFacts:
    created = data.get("creation_time")
    return MediaFacts(
        duration=data.get("duration"), format_name=data.get("format"), video_codec=data.get("video_codec"),
        width=data.get("width"), height=data.get("height"), fps=data.get("fps"), audio_codec=data.get("audio_codec"),
        creation_time=datetime.fromisoformat(created) if created else None, streams=data.get("streams") or [],
        error=data.get("error"))


def probe_isolated(path: Path) -> MediaFacts:
    """probe() in a child process: for a file whose last reader died, so that FFmpeg crashing on it
    again costs a child, not the pass. A crash or a hang is the file's error; it is still stored."""
    try:
        proc = subprocess.run([sys.executable, "-m", "bodycam.ingest.probe", os.fsencode(path)],
                              capture_output=True, timeout=READ_SECONDS + 30, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return MediaFacts(error=f"FFmpeg gave no answer in {READ_SECONDS} s")
    if proc.returncode < 0:
        return MediaFacts(error=f"FFmpeg crashed reading this file (signal {-proc.returncode})")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return MediaFacts(error=f"the probe failed (exit {proc.returncode})")
    return _facts_from(data)


def _main() -> None:
    facts = probe(Path(sys.argv[1]))  # argv keeps a name's bytes (surrogateescape)
    print(json.dumps({**facts.as_dict(), "error": facts.error}))


if __name__ == "__main__":
    _main()
