from omnicase.ops.migrations import run_env
from omnicase.reporting.models import metadata

run_env(metadata)
