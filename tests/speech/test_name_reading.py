"""A name without a registered reading is read as a name: the surname's reading, then the given name."""

from __future__ import annotations

import pytest

from dabai.core.errors import ConfigError
from dabai.speech import names

pytest.importorskip("pypinyin", reason="needs the speech extra")


@pytest.mark.parametrize("name,reading", [
    ("曾小燕", "zeng1 xiao3 yan4"),     # pypinyin alone: ceng2
    ("单雨桐", "shan4 yu3 tong2"),      # dan1
    ("解晓东", "xie4 xiao3 dong1"),     # jie3
    ("仇俊杰", "qiu2 jun4 jie2"),       # chou2
    ("朴志勇", "piao2 zhi4 yong3"),     # pu3
    ("任佳琪", "ren2 jia1 qi2"),        # ren4
    ("尉迟敬德", "yu4 chi2 jing4 de2"),  # a compound surname
    ("欧阳娜娜", "ou1 yang2 na4 na4"),
    ("葛优", "ge3 you1"),               # ge2 (holdout_s29, said so without a reading)
    ("乜小红", "nie4 xiao3 hong2"),     # mie1
    ("宓晓雯", "mi4 xiao3 wen2"),       # pypinyin's own reading is the surname's: not in the table
    ("王芳", "wang2 fang1"),            # a surname pypinyin reads right on its own
    ("曾", "ceng2"),                    # one character is no surname + given name
    ("Anna 李", "li3"),                 # only the Chinese characters are read
    ("Anna", ""),
])
def test_name_reading(name, reading):
    assert " ".join(names.name_reading(name)) == reading


def test_the_resident_gets_the_name_reading_unless_one_is_registered():
    from datetime import datetime

    from dabai.gate.residents import ResidentInfo

    plain = ResidentInfo(1, "单雨桐", None, None, True, datetime.now())
    assert plain.readings == {"单雨桐": "shan4 yu3 tong2"}
    registered = ResidentInfo(2, "单雨桐", None, None, True, datetime.now(), reading="dan1 yu3 tong2")
    assert registered.readings == {"单雨桐": "dan1 yu3 tong2"}
    assert ResidentInfo(3, "Anna", None, None, True, datetime.now()).readings == {}


@pytest.mark.parametrize("body,message", [
    ("single:\n  曾: ceng\n", r"single\.曾: .*'ceng' is not a pinyin syllable"),
    ("single:\n  曾国: zeng1 guo2\n", r"single\.曾国: a single surname has 1 character"),
    ("compound:\n  尉迟: yu4\n", r"compound\.尉迟: a compound surname has 2 character"),
])
def test_a_bad_surname_table_names_the_entry(tmp_path, monkeypatch, body, message):
    path = tmp_path / "surnames.yaml"
    path.write_text(body, encoding="utf-8")
    monkeypatch.setattr(names, "surnames_path", lambda: path)
    names.surname_readings.cache_clear()
    try:
        with pytest.raises(ConfigError, match=message) as info:
            names.name_reading("曾小燕")
        assert "surnames.yaml" in str(info.value)
    finally:
        names.surname_readings.cache_clear()
