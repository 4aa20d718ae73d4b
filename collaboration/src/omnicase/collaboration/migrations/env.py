from omnicase.collaboration.models import metadata
from omnicase.ops.migrations import run_env

run_env(metadata)
