import sys

from .run import BENCHES, main
from .socket_mode import bench_socket
from .triage import bench_triage

BENCHES["triage"] = bench_triage  # in their own modules: run.py is long enough
BENCHES["socket"] = bench_socket
sys.exit(main())
