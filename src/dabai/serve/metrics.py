"""Prometheus metrics of the service: requests by endpoint and status, latency histograms, errors.

With several worker processes the parent sets ``PROMETHEUS_MULTIPROC_DIR``
before they start; each worker then writes its samples there and ``/metrics``
aggregates all of them, whichever worker answers.
"""

from __future__ import annotations

import os

from dabai.core.errors import require

ENDPOINTS = {"/v1/detect", "/healthz", "/metrics"}
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self):
        prom = require("prometheus_client", "serve")
        self.prom = prom
        self.registry = prom.CollectorRegistry()
        self.requests = prom.Counter("dabai_requests_total", "HTTP requests by endpoint and status code",
                                     ["endpoint", "status"], registry=self.registry)
        self.latency = prom.Histogram("dabai_request_seconds", "request latency (first byte in to last byte out)",
                                      ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.inference = prom.Histogram("dabai_inference_seconds", "decode + letterbox + model + NMS time per image",
                                        buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = prom.Counter("dabai_errors_total", "requests answered with an error, by kind",
                                   ["endpoint", "kind"], registry=self.registry)

    def observe(self, path: str, status: int, seconds: float) -> None:
        endpoint = path if path in ENDPOINTS else "other"
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if status >= 400:
            self.errors.labels(endpoint, error_kind(status)).inc()

    def render(self) -> tuple[bytes, str]:
        prom = self.prom
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return prom.generate_latest(registry), prom.CONTENT_TYPE_LATEST
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST


def error_kind(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method", 413: "too_large",
            422: "bad_request", 503: "overloaded"}.get(status, "server_error" if status >= 500 else "client_error")
