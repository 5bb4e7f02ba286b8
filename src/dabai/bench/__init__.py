"""Benchmarks of the detector: in-process latency (``dabai bench --model``) and HTTP load (``--url``)."""
