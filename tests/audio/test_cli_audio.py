from __future__ import annotations

import json

from dabai.cli.main import main

from .helpers import utterance, write


def test_prep_check_manifest_split_via_cli(tmp_path, capsys):
    rec = utterance([("gap", 0.3), ("tone", 0.5), ("gap", 0.3), ("tone", 0.8), ("gap", 0.3)], 8000)
    write(tmp_path / "raw" / "t1.wav", rec, 8000)
    assert main(["audio", "prep", str(tmp_path / "raw"), str(tmp_path / "clean"), "--rate", "44100", "--mono",
                 "--trim", "--normalize"]) == 0
    assert main(["audio", "check", str(tmp_path / "clean"), "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{"):])
    assert report["rates"] == {"44100": 1}
    (tmp_path / "clean" / "t1.txt").write_text("您好，张三", encoding="utf-8")
    assert main(["audio", "manifest", str(tmp_path / "clean"), "--out", str(tmp_path / "m.jsonl"), "--relative"]) == 0
    assert json.loads((tmp_path / "m.jsonl").read_text(encoding="utf-8"))["audio_filepath"] == "clean/t1.wav"
    assert main(["audio", "split-phrases", "您好，张三", str(tmp_path / "clean"), "--out", str(tmp_path / "ph")]) == 0
    assert len((tmp_path / "ph" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_cli_errors_are_messages(tmp_path, capsys):
    bad = tmp_path / "x.wav"
    bad.write_text("not audio")
    assert main(["audio", "prep", str(bad), str(tmp_path / "y.wav")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "x.wav" in err and "Traceback" not in err
    assert main(["audio", "prep", str(tmp_path / "missing"), str(tmp_path / "o")]) == 2
    assert main(["audio", "check", str(bad), "--strict"]) == 1
