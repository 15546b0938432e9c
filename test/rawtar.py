"""Tar blocks put together by hand, for tests of what tar readers read apart.

Python's tarfile writes each header; these helpers put them in orders and combinations
no writer would, the way a hostile archive does.
"""
import tarfile

END = bytes(1024)


def padded(data: bytes) -> bytes:
    """Data followed by the zeros that fill its last block."""
    return data + bytes(-len(data) % 512)


def rec(key: bytes, value: bytes) -> bytes:
    """One PAX record, its length counting its own digits."""
    line = b' ' + key + b'=' + value + b'\n'
    n = len(line) + 1
    while len(str(n)) + len(line) != n:
        n = len(str(n)) + len(line)
    return str(n).encode() + line


def ext(kind: bytes, body: bytes, name: str = 'PaxHeader') -> bytes:
    """An extension header of type `kind` (x, g, L, K...) and its data."""
    h = tarfile.TarInfo(name)
    h.type = kind
    h.size = len(body)
    return h.tobuf(format=tarfile.USTAR_FORMAT) + padded(body)


def long_name(kind: bytes, name: bytes) -> bytes:
    """A GNU long name (L) or long link (K) header."""
    return ext(kind, name + b'\0', '././@LongLink')


def member(name: str, data: bytes, mtime: int = 0, **fields) -> bytes:
    """A regular file's ustar header and data; `fields` set other TarInfo attributes."""
    t = tarfile.TarInfo(name)
    t.size = len(data)
    t.mtime = mtime
    for key, value in fields.items():
        setattr(t, key, value)
    return t.tobuf(format=tarfile.USTAR_FORMAT) + padded(data)


def with_checksum(block: bytearray) -> bytearray:
    """A header block with its checksum made right again after an edit."""
    block[148:156] = b' ' * 8
    block[148:156] = b'%06o\0 ' % sum(block[:512])
    return block
