"""One inference worker per model: cameras submit frames, the worker runs whatever is waiting in one call.

A single worker keeps onnxruntime's thread pool from being oversubscribed by every camera thread at once,
and one call per wake-up amortises the per-call overhead. On a 2-core CPU a batch of 4 costs about the
same per frame as 4 single runs (bench/detect.py); accelerators (NPU/iGPU execution providers) gain more. A camera thread calls :meth:`DetectionBatcher.submit` and waits on the
returned future (or calls :meth:`detect`); the queue is bounded, so a stalled model slows cameras down
instead of growing memory.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from edge_agent.inference.detection import Detection
from edge_agent.inference.detector import Detector

log = logging.getLogger("edge_agent.inference")


class BatcherStopped(RuntimeError):
    """The batcher was stopped before (or while) this frame waited."""


@dataclass
class BatcherStats:
    batches: int = 0
    frames: int = 0
    failures: int = 0

    @property
    def mean_batch(self) -> float:
        return self.frames / self.batches if self.batches else 0.0


_STOP = object()


class DetectionBatcher:
    """Runs ``detector.detect_batch`` on up to ``max_batch`` waiting frames at a time, on its own thread."""

    def __init__(self, detector: Detector, max_batch: int | None = None, queue_size: int = 16) -> None:
        self.detector = detector
        self.max_batch = max(1, min(max_batch or detector.max_batch, detector.max_batch))
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.stats = BatcherStats()
        self._stats_lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"detector-{self.detector.name}"

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop the worker; frames still waiting get :class:`BatcherStopped`."""
        self._stopping.set()
        with contextlib.suppress(queue.Full):  # if full, the worker sees _stopping within its poll period
            self._queue.put_nowait(_STOP)
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._fail_pending()

    def submit(self, frame_bgr: np.ndarray, timeout_s: float | None = None) -> Future[list[Detection]]:
        """Queue one frame; the future resolves to its detections. A malformed frame raises here, at once."""
        if (
            frame_bgr.ndim != 3
            or frame_bgr.shape[2] != 3
            or frame_bgr.dtype != np.uint8
            or frame_bgr.size == 0
        ):
            raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame_bgr.shape} {frame_bgr.dtype}")
        if self._stopping.is_set():  # frames queued before start() run once it starts
            raise BatcherStopped(f"{self.name} is stopped")
        fut: Future[list[Detection]] = Future()
        self._queue.put((frame_bgr, fut), timeout=timeout_s)
        return fut

    def detect(self, frame_bgr: np.ndarray, timeout_s: float | None = None) -> list[Detection]:
        """Submit and wait: what a camera thread calls."""
        return self.submit(frame_bgr, timeout_s).result(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if first is _STOP:
                break
            items = [first]
            while len(items) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self._stopping.set()
                    break
                items.append(more)
            self._run_batch(items)  # type: ignore[arg-type]
        self._fail_pending()

    def _run_batch(self, items: list[tuple[np.ndarray, Future[list[Detection]]]]) -> None:
        live = [(f, fut) for f, fut in items if fut.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.detector.detect_batch([f for f, _ in live])
        except Exception as exc:  # one bad batch must not kill the worker every camera depends on
            log.exception("%s: inference failed on a batch of %d", self.name, len(live))
            with self._stats_lock:
                self.stats.failures += 1
            for _, fut in live:
                fut.set_exception(exc)
            return
        with self._stats_lock:
            self.stats.batches += 1
            self.stats.frames += len(live)
        for (_, fut), dets in zip(live, results, strict=True):
            fut.set_result(dets)

    def _fail_pending(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                continue
            fut: Future[list[Detection]] = item[1]  # type: ignore[index]
            if fut.set_running_or_notify_cancel():
                fut.set_exception(BatcherStopped(f"{self.name} stopped"))
