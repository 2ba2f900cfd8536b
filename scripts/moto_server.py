"""moto's server, tuned for scans of whole organizations.

    moto_server.py [moto_server's arguments]    e.g. moto_server.py -H 127.0.0.1 -p 5000

Everything that starts moto (the test harness, the demo, the benchmarks, the simulator's
capture) goes through here, or imports it before moto, for two settings:

- **A deep listen backlog.** werkzeug listens with a backlog of 128. A scan opens hundreds
  of connections at once (every account's regions in flight); beyond the backlog the kernel
  drops the handshakes and the clients' retransmissions become stalls of a minute, which
  orglake rightly reports as unreachable regions.
- **moto's base AMI catalogue only** (its 44 `amis.json` images, not the ~1,300 "latest"
  images per region). moto builds an account's EC2 backend for a region on first touch, and
  building those images is 0.17 s of CPU each time: 37 accounts x 23 regions is two and a half
  minutes of one core, during which every other request waits behind the GIL. The images
  that remain are real moto images, with names and descriptions.
"""

import gzip
import importlib.util
import os
import pathlib
import shutil
import sys

BACKLOG = 4096


def base_amis_path():
    """moto's base AMI catalogue, unpacked once into the venv, as a path for MOTO_AMIS_PATH."""
    target = pathlib.Path(sys.prefix) / "moto_base_amis.json"
    if not target.exists():
        package = pathlib.Path(importlib.util.find_spec("moto").submodule_search_locations[0])
        partial = target.with_suffix(f".{os.getpid()}.partial")
        with gzip.open(package / "ec2/resources/amis.json.gz", "rb") as src, open(partial, "wb") as out:
            shutil.copyfileobj(src, out)
        os.replace(partial, target)
    return str(target)


# Before moto is imported: it reads MOTO_AMIS_PATH when its EC2 models load.
os.environ.setdefault("MOTO_AMIS_PATH", base_amis_path())


def deepen_backlog():
    """Makes every werkzeug server created after this call listen with BACKLOG."""
    from werkzeug.serving import BaseWSGIServer

    BaseWSGIServer.request_queue_size = BACKLOG


if __name__ == "__main__":
    deepen_backlog()
    from moto.server import main

    main(sys.argv[1:])
