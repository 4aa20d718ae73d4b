from omnicase.ops.migrations import run_env
from omnicase.sla_engine.models import metadata

run_env(metadata)
