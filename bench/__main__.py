import sys

from .run import BENCHES, main
from .triage import bench_triage

BENCHES["triage"] = bench_triage  # in its own module: run.py is long enough
sys.exit(main())
