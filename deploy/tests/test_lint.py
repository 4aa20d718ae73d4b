"""The image definition and the rendered manifests pass their linters.

hadolint lints the Dockerfile; checkov lints the Dockerfile and each rendered
overlay once. A check may only be skipped where the manifest says why (a
`checkov.io/skipN: CHECK=reason` annotation), so every skip carries its reason.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[1]
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
DOCKERFILE = DEPLOY / "Dockerfile"


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


def test_dockerfile_passes_hadolint(hadolint: str):
    result = run([hadolint, "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_careless_dockerfile(hadolint: str, tmp_path: Path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\n")
    result = run([hadolint, "--no-color", str(careless)])
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def checkov_report(checkov: str, target: Path, framework: str, env: dict[str, str]) -> dict[str, Any]:
    result = run(
        [checkov, "--file", str(target), "--framework", framework, "--skip-download", "--output", "json"],
        env=env,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return report[0] if isinstance(report, list) else report


def assert_clean(report: dict[str, Any]) -> None:
    summary = report["summary"]
    assert summary["resource_count"] > 0, summary
    assert summary["parsing_errors"] == 0, summary
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert not failed, "\n".join(failed)
    unexplained = [
        f"{c['check_id']} {c['resource']}"
        for c in report["results"]["skipped_checks"]
        if not (c["check_result"].get("suppress_comment") or "").strip()
    ]
    assert not unexplained, f"skipped without a reason: {unexplained}"


@pytest.mark.parametrize("overlay_name", OVERLAYS)
def test_rendered_overlay_passes_checkov(
    checkov: str, overlay_name: str, rendered_files: dict[str, Path], linter_env: dict[str, str]
):
    assert_clean(checkov_report(checkov, rendered_files[overlay_name], "kubernetes", linter_env))


def test_dockerfile_passes_checkov(checkov: str, linter_env: dict[str, str]):
    assert_clean(checkov_report(checkov, DOCKERFILE, "dockerfile", linter_env))


def test_rollout_script_passes_shellcheck(shellcheck: str):
    result = run([shellcheck, str(DEPLOY / "scripts" / "rollout.sh")])
    assert result.returncode == 0, result.stdout + result.stderr
