"""A real HTTP MJPEG camera (multipart/x-mixed-replace, as IP cameras serve it) built on http.server."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

BOUNDARY = "edgeframe"


def jpeg_frames(clip: Path, count: int) -> list[bytes]:
    cap = cv2.VideoCapture(str(clip))
    out = []
    while len(out) < count:
        ok, img = cap.read()
        if not ok:
            break
        out.append(bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1]))
    cap.release()
    return out


class MjpegServer:
    def __init__(self, clip: Path, fps: float = 10.0, count: int = 50) -> None:
        frames = jpeg_frames(clip, count)
        stop = threading.Event()
        self._stop = stop

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
                self.end_headers()
                k = 0
                try:
                    while not stop.is_set():
                        jpg = frames[k % len(frames)]
                        head = (
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpg)}\r\n\r\n"
                        )
                        self.wfile.write(head.encode() + jpg + b"\r\n")
                        k += 1
                        time.sleep(1.0 / fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
