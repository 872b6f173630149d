import json
import sys
from pathlib import Path

from .cpu import bench_cpu
from .issue16 import summary
from .issue25 import bench_i25_batch, bench_i25_enrich, bench_i25_pacing, bench_i25_startup
from .issue25 import summary as summary25
from .issue25_bot import bench_i25_capacity, bench_i25_triage
from .pacing import bench_no_limit, bench_pacing, bench_pacing_shared
from .run import BENCHES, ROOT, main
from .socket_mode import bench_socket
from .sustained import bench_sustained
from .triage import bench_triage

# in their own modules: run.py is long enough
BENCHES["triage"] = bench_triage
BENCHES["socket"] = bench_socket
BENCHES["pacing"] = bench_pacing
BENCHES["pacing_shared"] = bench_pacing_shared
BENCHES["no_limit"] = bench_no_limit
BENCHES["sustained"] = bench_sustained
BENCHES["cpu"] = bench_cpu
BENCHES["i25_batch"] = bench_i25_batch
BENCHES["i25_pacing"] = bench_i25_pacing
BENCHES["i25_triage"] = bench_i25_triage
BENCHES["i25_enrich"] = bench_i25_enrich
BENCHES["i25_startup"] = bench_i25_startup
BENCHES["i25_capacity"] = bench_i25_capacity

code = main()
out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else str(ROOT / "bench" / "results.json")
lines = summary(json.loads(Path(out).read_text()))
if lines:
    print("\n-- issue #16 targets (each measured in this run)")
    print("\n".join(lines))
lines25 = summary25(json.loads(Path(out).read_text()))
if lines25:
    print("\n-- issue #25 targets (each measured in this run)")
    print("\n".join(lines25))
sys.exit(code)
