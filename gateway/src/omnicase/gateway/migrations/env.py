from omnicase.gateway.models import metadata
from omnicase.kit.migrations import run_env

run_env(metadata)
