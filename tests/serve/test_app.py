"""The service through FastAPI's TestClient: detections, garbage, limits, API key, metrics."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from dabai.bench.images import bench_jpeg
from dabai.serve.app import create_app
from dabai.serve.options import ServeOptions

from .conftest import png_header

JPEG = bench_jpeg()


@pytest.fixture(scope="module")
def client(serve_model):
    return TestClient(create_app(ServeOptions(model=str(serve_model), max_bytes=300_000, max_pixels=4_000_000)))


def post(client, data: bytes, name: str = "x.jpg", **kw):
    return client.post("/v1/detect", files={"file": (name, data, "image/jpeg")}, **kw)


def test_detect_returns_predict_json_entries(client):
    r = post(client, JPEG, "visitor.jpg")
    assert r.status_code == 200
    body = r.json()
    assert body["image"] == "visitor.jpg" and body["detections"]
    d = body["detections"][0]
    assert set(d) == {"image", "bbox", "score", "label"} and d["image"] == "visitor.jpg" and len(d["bbox"]) == 4
    assert d["label"] in ("with_mask", "without_mask", "mask_weared_incorrect") and d["score"] >= 0.3


@pytest.mark.parametrize("data", [b"garbage", b"", JPEG[:300], b"\x89PNG\r\n\x1a\n" + b"\0" * 50, png_header(20, 20),
                                  b"GIF89a" + b"\xff" * 40, bytes(range(256)) * 20])
def test_garbage_is_400_never_500(client, data):
    r = post(client, data)
    assert r.status_code == 400, r.text
    assert "error" in r.json()


@pytest.mark.parametrize("kwargs", [{"data": {"other": "1"}}, {"content": b"raw", "headers": {"content-type": "image/jpeg"}},
                                    {"content": b"--zz\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=zz"}}])
def test_wrong_request_shapes_are_400(client, kwargs):
    r = client.post("/v1/detect", **kwargs)
    assert r.status_code == 400 and "file" in r.json()["error"]


def test_size_limits_are_413(client):
    assert post(client, b"x" * 400_000).status_code == 413

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(40):
            yield b"x" * 10_000

    r = client.post("/v1/detect", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413
    r = post(client, png_header(30_000, 30_000), "bomb.png")
    assert r.status_code == 413 and "pixels" in r.json()["error"]


def test_health_and_metrics(client):
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and h["input_size"] == 96
    post(client, JPEG)
    post(client, b"junk")
    text = client.get("/metrics").text
    assert 'dabai_requests_total{endpoint="/v1/detect",status="200"}' in text
    assert 'dabai_errors_total{endpoint="/v1/detect",kind="bad_request"}' in text
    assert "dabai_request_seconds_bucket" in text and "dabai_inference_seconds_count" in text


def test_api_key(serve_model):
    c = TestClient(create_app(ServeOptions(model=str(serve_model), api_key="s3cret")))
    assert post(c, JPEG).status_code == 401
    assert post(c, JPEG, headers={"authorization": "Bearer wrong"}).status_code == 401
    assert post(c, JPEG, headers={"authorization": "Bearer s3cret"}).status_code == 200
    assert post(c, JPEG, headers={"x-api-key": "s3cret"}).status_code == 200
    assert c.get("/metrics").status_code == 401
    assert c.get("/healthz").status_code == 200  # probes need no key


def test_micro_batching_gives_the_same_answers(serve_model):
    single = TestClient(create_app(ServeOptions(model=str(serve_model), batch=1)))
    batched = TestClient(create_app(ServeOptions(model=str(serve_model), batch=4, batch_wait_ms=1)))
    a, b = post(single, JPEG).json()["detections"], post(batched, JPEG).json()["detections"]
    assert a == b
    assert post(batched, b"junk").status_code == 400


def test_memory_budget_is_server_wide():
    """Defect 4: 16 clients each under the pixel cap drove the server to 3.7 GB; the budget bounds them together."""
    import asyncio

    from dabai.serve.budget import Busy, MemoryBudget, OverBudget

    async def scenario():
        budget = MemoryBudget(total_bytes=1000, wait_s=5.0)
        inside, most = 0, 0

        async def request(cost):
            nonlocal inside, most
            async with budget.claim(cost):
                inside += cost
                most = max(most, inside)
                await asyncio.sleep(0.01)
                inside -= cost

        await asyncio.gather(*(request(400) for _ in range(16)))
        assert most <= 1000 and budget.peak <= 1000 and budget.used == 0
        with pytest.raises(OverBudget):
            async with budget.claim(1001):
                pass
        short = MemoryBudget(total_bytes=1000, wait_s=0.05)
        async with short.claim(900):
            with pytest.raises(Busy):
                async with short.claim(200):
                    pass
        assert short.used == 0 and not short._waiters

    asyncio.run(scenario())


def test_concurrent_big_uploads_share_the_budget(serve_model):
    """16 concurrent uploads declaring ~1 MP each against a budget of ~2 such images: never more in flight."""
    import concurrent.futures

    budget_mb = 12  # a 1000x1000 image claims ~6 MB (BGR + RGB copy)
    client = TestClient(create_app(ServeOptions(model=str(serve_model), memory_budget_mb=budget_mb, batch=1)))
    body = png_header(1000, 1000)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: client.post("/v1/detect", files={"file": ("big.png", body)}).status_code,
                              range(16)))
    assert all(c in (200, 400) for c in codes), codes  # decoded (truncated data) or refused: never a 5xx
    budget = client.app.app.state.budget
    assert 0 < budget.peak <= budget_mb * 2**20 and budget.used == 0
