"""Residents registry and CSV import: bad rows reported by line, good rows kept, nothing half-written."""

from __future__ import annotations

import pytest

from dabai.core.errors import DataError
from dabai.gate.residents import ResidentError, add_resident, find_resident, import_csv, list_residents, remove_resident


def test_add_list_find_remove(registry):
    a = add_resident(registry, " 张三 ", "3-1-402", "+86 138-0000-0000")
    b = add_resident(registry, "张三", "5-2-101")
    assert a.name == "张三" and a.id != b.id
    assert [r.id for r in list_residents(registry)] == [a.id, b.id]
    with pytest.raises(ResidentError, match="2 residents are named '张三'"):
        find_resident(registry, "张三")
    assert find_resident(registry, str(b.id)).unit == "5-2-101"
    remove_resident(registry, a.id)
    assert find_resident(registry, "张三").id == b.id  # now unambiguous
    assert [r.id for r in list_residents(registry)] == [b.id]
    assert len(list_residents(registry, include_inactive=True)) == 2  # history kept
    with pytest.raises(ResidentError, match="no active resident with id"):
        find_resident(registry, a.id)


@pytest.mark.parametrize("name,unit,phone,match", [
    ("", None, None, "empty"), ("42", None, None, "only digits"), ("x" * 101, None, None, "at most 100"),
    ("李四", None, "call me", "not a phone number"), ("李四", "u" * 41, None, "longer than 40"),
])
def test_add_rejects_bad_fields(registry, name, unit, phone, match):
    with pytest.raises(ResidentError, match=match):
        add_resident(registry, name, unit, phone)
    assert list_residents(registry) == []


def test_csv_import_reports_bad_rows_by_line(registry, tmp_path):
    add_resident(registry, "王五", "1-1-1")
    csv = tmp_path / "r.csv"
    csv.write_text("\ufeffName,Unit,Phone\n"
                   "张三,3-1-402,13800000000\n"
                   ",2-2-2,\n"                      # line 3: empty name
                   "李四,1-2-3,not-a-phone\n"       # line 4
                   "\n"
                   "赵六,1-1-101\n"                  # line 6: too few fields
                   "王五,1-1-1,\n"                   # line 7: already registered
                   '"钱七","7-7-7",""\n'
                   "张三,3-1-402,\n",                # line 9: repeats line 2
                   encoding="utf-8")
    report = import_csv(registry, csv)
    assert [r.name for r in report.added] == ["张三", "钱七"]
    assert [line for line, _ in report.errors] == [3, 4, 6, 7, 9]
    assert "already registered" in dict(report.errors)[7] and "repeats line 2" in dict(report.errors)[9]
    assert len(list_residents(registry)) == 3


def test_csv_import_is_all_or_nothing(registry, tmp_path, monkeypatch):
    csv = tmp_path / "r.csv"
    csv.write_text("name\n" + "".join(f"住户{i}\n" for i in range(50)), encoding="utf-8")
    from sqlalchemy.orm import Session

    real_flush = Session.flush

    def failing_flush(self, *a, **k):
        real_flush(self, *a, **k)
        raise OSError("disk full (simulated) after the rows were sent")

    monkeypatch.setattr(Session, "flush", failing_flush)
    with pytest.raises(OSError):
        import_csv(registry, csv)
    monkeypatch.setattr(Session, "flush", real_flush)
    assert list_residents(registry) == []  # rolled back: nothing half-written
    assert len(import_csv(registry, csv).added) == 50


@pytest.mark.parametrize("content,match", [
    (b"", "empty"), (b"unit,phone\n1,2\n", "no 'name' column"), (b"name,email\nx,y\n", "unknown column"),
    (b"name\n\xff\xfe\n", "not UTF-8"),
])
def test_csv_file_errors(registry, tmp_path, content, match):
    csv = tmp_path / "bad.csv"
    csv.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        import_csv(registry, csv)
    assert str(csv) in str(info.value)
    with pytest.raises(DataError, match="not found"):
        import_csv(registry, tmp_path / "missing.csv")
