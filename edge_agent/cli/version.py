"""``edge-agent version``: the agent's version and those of the parts a field report needs."""

from __future__ import annotations

import argparse
import hashlib

import edge_agent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("version", help="print versions of the agent, onnxruntime, OpenCV and model files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import cv2
    import onnxruntime
    import paho.mqtt
    import pymodbus

    print(f"edge-agent   {edge_agent.__version__}")
    print(f"onnxruntime  {onnxruntime.__version__} ({', '.join(onnxruntime.get_available_providers())})")
    print(f"opencv       {cv2.__version__}")
    print(f"paho-mqtt    {paho.mqtt.__version__}")
    print(f"pymodbus     {pymodbus.__version__}")
    from edge_agent.inference.detector import default_models_dir

    for onnx in sorted(default_models_dir().glob("*.onnx")):
        digest = hashlib.sha256(onnx.read_bytes()).hexdigest()[:16]
        print(f"model        {onnx.name} ({onnx.stat().st_size / 1e6:.1f} MB, sha256 {digest}...)")
    return 0
