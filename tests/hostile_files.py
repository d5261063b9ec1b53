"""Building hostile model files for tests/test_hostile_pt2.py and test_hostile_keras_files.py:
a payload that creates a marker file when unpickled, rewriting a zip entry by entry, editing a
.pt2's weights or constants config, and the check that an attack file is live (the library
itself runs its payload), so each test can fail."""
from __future__ import annotations

import json
import zipfile


class Touch:
    """Unpickling this creates `path` (what a real attack would do with os.system)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def rewrite(src, dst, edit=lambda name, data: data, extra=()):
    """Copy a zip, passing each entry through edit(name, data) (None drops it), then add
    the (name, data) pairs of `extra`."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for info in z.infolist():
            data = edit(info.filename, z.read(info.filename))
            if data is not None:
                out.writestr(info.filename, data)
        for name, data in extra:
            out.writestr(name, data)
    return dst


def edit_config(kind, change):
    """An edit() applying change(config dict) to the weights or constants config."""
    def edit(name, data):
        if name.endswith(f"model_{kind}_config.json"):
            cfg = json.loads(data)
            change(cfg["config"])
            return json.dumps(cfg).encode()
        return data
    return edit


def assert_live(marker, run):
    """The payload really runs when the library reads the file itself."""
    assert not marker.exists()
    try:
        run()
    except Exception:
        pass
    assert marker.exists(), "the attack file is not live: the test could not fail"
