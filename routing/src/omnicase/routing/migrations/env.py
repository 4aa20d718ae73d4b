from omnicase.ops.migrations import run_env
from omnicase.routing.models import metadata

run_env(metadata)
