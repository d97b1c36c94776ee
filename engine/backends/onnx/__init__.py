"""The ONNX backend: exported SPEX parts and segmentation models on onnxruntime."""
