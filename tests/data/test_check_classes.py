"""check_classes (data/classnames.py): the one check that the data's classes fit a spec's or a model's."""

from __future__ import annotations

import pytest

from dabai.core.errors import ClassMismatch, ConfigError, DataError
from dabai.data.classnames import check_classes


def test_known_classes_pass():
    check_classes(["with_mask"], ["with_mask", "without_mask"], "data/", "model")


def test_a_mismatch_names_both_lists_the_unknown_and_a_near_miss():
    with pytest.raises(ClassMismatch) as info:
        check_classes(["with_mask", "cat"], ["With_Mask", "without_mask"], "data/val", "spec")
    msg = str(info.value)
    assert msg.startswith("data/val: the data's classes ['with_mask', 'cat'] do not match the spec's classes "
                          "['With_Mask', 'without_mask']: ['with_mask', 'cat'] not in the spec")
    assert "'with_mask' looks like 'With_Mask'" in msg and "'cat' looks like" not in msg
    assert isinstance(info.value, ConfigError) and isinstance(info.value, DataError)  # train and eval catch it as before
    assert info.value.path == "data/val"
