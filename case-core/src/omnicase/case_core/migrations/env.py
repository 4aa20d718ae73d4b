from omnicase.case_core.models import metadata
from omnicase.kit.migrations import run_env

run_env(metadata)
