"""ONNX models: manifests, onnxruntime sessions shared by every camera, output decoders with NMS."""
