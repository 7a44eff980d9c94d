"""The deploy files, checked statically (no Docker engine or systemd here): the Dockerfile lints,
the compose file fits the compose schema and names only real paths and settings, the systemd
unit verifies and is hardened, and .env.example documents every setting."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from ruamel.yaml import YAML

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def variables() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values()}


def assignments(text: str, commented: bool = False) -> dict[str, str]:
    """KEY=value lines (with `commented`, also '# KEY=value' ones)."""
    pattern = r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$"
    return dict(re.findall(pattern, text, re.MULTILINE))


def test_the_dockerfile_passes_hadolint_with_no_ignores(tmp_path: Path) -> None:
    result = subprocess.run([str(BIN / "hadolint"), "--failure-threshold", "style", "--disable-ignore-pragma",
                             "--no-color", str(DEPLOY / "Dockerfile")],
                            capture_output=True, text=True, cwd=tmp_path, env={"HOME": str(tmp_path)}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_runs_the_bot_unprivileged_with_its_own_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert stages == ["python:3.11-slim", "python:3.11-slim"]
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert 'VOLUME ["/data"]' in text and "DATABASE_URL=sqlite:////data/newsdigest.db" in text
    assert re.search(r'^HEALTHCHECK .*CMD \["newsdigest", "health", "--live"\]$', text, re.MULTILINE)
    assert 'ENTRYPOINT ["newsdigest"]' in text and 'CMD ["run"]' in text
    copied = {name for names in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE) for name in names.split()}
    for name in copied:
        assert (ROOT / name).exists(), f"the Dockerfile copies {name}, which is not in the repository"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages | {"pyproject.toml", project["project"]["readme"]} <= copied  # all `pip install .` needs
    for licence in project["project"]["license-files"]:  # else the image is built without its licences
        assert licence in copied or licence.split("/")[0] in packages
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    for name in ("pyproject.toml", "README.md", "LICENSE", "bot/", "adapters/", "storage/"):
        assert f"!{name}" in ignore


def test_the_compose_file_fits_the_compose_schema() -> None:
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(DEPLOY / "compose.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_file_names_only_real_paths_and_settings() -> None:
    compose = YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text())
    [service] = compose["services"].values()
    context = DEPLOY / service["build"]["context"]
    assert (context / service["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert service["env_file"] == ".env"  # made from .env.example, which sits beside it
    assert set(service["environment"]) <= variables()
    assert service["environment"]["DATABASE_URL"] == "sqlite:////data/newsdigest.db"
    assert service["volumes"] == ["data:/data"] and "data" in compose["volumes"]
    assert service["init"] is True and service["read_only"] is True and service["cap_drop"] == ["ALL"]
    grace = int(service["stop_grace_period"].removesuffix("s"))
    assert grace > float(assignments((DEPLOY / ".env.example").read_text())["NEWSDIGEST_SHUTDOWN_SECONDS"])
    assert "${" not in (DEPLOY / "compose.yaml").read_text()  # nothing to interpolate, nothing to forget


def test_env_example_documents_every_setting_and_loads() -> None:
    text = (DEPLOY / ".env.example").read_text()
    documented = assignments(text, commented=True)
    assert set(documented) == variables()
    settings = Settings(_env_file=DEPLOY / ".env.example")  # type: ignore[call-arg]
    assert settings.telegram_bot_token is None and settings.discord_bot_token is None
    assert settings.shutdown_seconds == 20 and settings.status_file is None


def test_the_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    unit = (DEPLOY / "newsdigest.service").read_text()
    assert "ExecStart=/opt/newsdigest/bin/newsdigest run\n" in unit
    local = tmp_path / "newsdigest.service"  # verify needs the ExecStart binary to exist
    local.write_text(unit.replace("/opt/newsdigest/bin/newsdigest", str(BIN / "newsdigest")))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is part of systemd, which this machine has"
    verify = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr  # unknown keys only warn
    security = subprocess.run([analyze, "security", "--offline=yes", "--threshold=20", str(local)],
                              capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stdout[-3000:]  # exposure 2.0 or better on systemd's 10-point scale
    for line in ("User=newsdigest", "StateDirectory=newsdigest", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "Restart=on-failure"):
        assert f"\n{line}\n" in unit
    timeout = int(re.search(r"^TimeoutStopSec=(\d+)s$", unit, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert timeout > Settings.model_fields["shutdown_seconds"].default
