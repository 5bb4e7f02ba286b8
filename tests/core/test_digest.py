"""The one sha256 of a file (core/digest.py): known digests, and a file larger than one read block."""

from __future__ import annotations

import hashlib

import pytest

from dabai.core.digest import sha256_file


@pytest.mark.parametrize("content, expected", [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
])
def test_known_digests(tmp_path, content, expected):
    path = tmp_path / "f.bin"
    path.write_bytes(content)
    assert sha256_file(path) == expected
    assert sha256_file(str(path)) == expected


def test_a_file_read_in_many_blocks_hashes_as_a_whole(tmp_path):
    data = bytes(range(256)) * 1000  # 256,000 bytes: 63 blocks of 4,096
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path, chunk=4096) == hashlib.sha256(data).hexdigest()


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.bin"):
        sha256_file(tmp_path / "nothing.bin")
