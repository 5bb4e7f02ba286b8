"""metrics.csv: one header that fits every epoch's row, validated or not."""

from dabai.train.metrics import append_metrics, read_metrics


def test_rows_with_and_without_validation_read_back(tmp_path):
    path = tmp_path / "metrics.csv"
    append_metrics(path, {"epoch": 1, "lr": 0.1, "loss": 2.0, "val_map50": ""})  # eval_every=2: no validation
    append_metrics(path, {"epoch": 2, "lr": 0.1, "loss": 1.5, "val_map50": 0.3, "ap50_with_mask": 0.5})
    append_metrics(path, {"epoch": 3, "lr": 0.1, "loss": 1.2, "val_map50": ""})
    rows = read_metrics(path)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[0]["ap50_with_mask"] is None and rows[1]["ap50_with_mask"] == 0.5 and rows[2]["ap50_with_mask"] is None
    assert rows[1]["val_map50"] == 0.3
    assert path.read_text().splitlines()[0].endswith("ap50_with_mask")
