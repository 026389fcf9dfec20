"""SQLite journals on network file systems are refused, recommending Redis."""

from __future__ import annotations

import pytest

import hyperhive.storage.sqlite as sqlite_mod
from hyperhive.storage import SQLiteStore
from hyperhive.storage.sqlite import network_filesystem

MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
tmpfs /tmp tmpfs rw 0 0
server:/export/home /home nfs4 rw,vers=4.2 0 0
10.0.0.1@o2ib:/scratch /scratch lustre rw,flock 0 0
/dev/gpfs0 /gpfs gpfs rw 0 0
//nas/share /mnt/nas cifs rw 0 0
user@host:/data /mnt/ssh fuse.sshfs rw 0 0
server:/local /home/me/local\\040disk ext4 rw 0 0
server:/v /home/me/local\\040disk/nfs nfs rw 0 0
"""


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/home/me/run/journal.sqlite", "nfs4"),
        ("/home", "nfs4"),
        ("/homework/run", None),
        ("/scratch/u/run", "lustre"),
        ("/gpfs/projects/run", None),
        ("/mnt/nas/x", "cifs"),
        ("/mnt/ssh/x", "fuse.sshfs"),
        ("/tmp/run", None),
        ("/var/run", None),
        ("/home/me/local disk/run", None),
        ("/home/me/local disk/nfs/run", "nfs"),
    ],
)
def test_detection_from_a_mounts_table(path, expected):
    assert network_filesystem(path, MOUNTS) == expected


def test_no_mounts_table_means_no_refusal(tmp_path):
    assert network_filesystem(tmp_path, "") is None
    assert network_filesystem(tmp_path) is None  # this machine's temp dir is local


def test_sqlite_store_refuses_nfs(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_mod, "network_filesystem", lambda path: "nfs4")
    monkeypatch.delenv("HYPERHIVE_ALLOW_NETWORK_FS", raising=False)
    with pytest.raises(OSError, match=r"nfs4 network file system.*redis://"):
        SQLiteStore(tmp_path / "j.sqlite")
    assert not (tmp_path / "j.sqlite").exists()
    monkeypatch.setenv("HYPERHIVE_ALLOW_NETWORK_FS", "1")
    SQLiteStore(tmp_path / "j.sqlite").close()
