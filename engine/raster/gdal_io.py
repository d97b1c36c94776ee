"""One lock for GDAL reads and writes made while worker threads run.

GDAL's block cache is shared by all datasets: a thread that needs room may flush another
dataset's dirty blocks while the thread that owns that dataset writes to it, and a partial
block is then lost. Reading the input in worker threads while the main thread writes the
outputs is exactly that case, so every read and write goes through this lock (they are short;
the computing between them runs in parallel).
"""

from __future__ import annotations

import threading

#: Held around every GDAL read or write of the engine's datasets (re-entrant).
GDAL_IO = threading.RLock()
