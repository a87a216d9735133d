"""bodycam: an evidence pipeline for body-worn-camera and interrogation-room footage."""

__version__ = "0.1.0"
