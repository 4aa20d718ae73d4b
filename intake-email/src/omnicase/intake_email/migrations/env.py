from omnicase.intake_email.models import metadata
from omnicase.kit.migrations import run_env

run_env(metadata)
