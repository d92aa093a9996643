"""Bad input never breaks the service: schemathesis, from its own environment (its hypothesis is newer
than brownie's), fuzzes every operation of the OpenAPI document against the running server and
checks that no answer is a 5xx and every answer matches its documented schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = ROOT / ".tools" / "schemathesis" / "bin" / "schemathesis"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(settings) -> dict[str, str]:
    return dict(
        os.environ,
        SOCIALCOIN_ENVIRONMENT="test",
        SOCIALCOIN_DATABASE_URL=settings.database_url,
        SOCIALCOIN_RPC_URL=settings.rpc_url,
        SOCIALCOIN_DEPLOYMENT_FILE=str(settings.deployment_file),
        SOCIALCOIN_EVIDENCE_DIR=str(settings.evidence_dir),
    )


def _subjects(base: str, admin: dict[str, str]) -> dict[str, int]:
    """A resident, a merchant and an organisation to speak for, made through the API itself."""
    resident = httpx.post(
        f"{base}/municipality/residents",
        headers=admin,
        json={
            "name": "Fuzz Resident",
            "case_number": "FUZZ-1",
            "area": "BU02020101",
            "pin": "24680",
            "consent": True,
        },
    )
    merchant = httpx.post(
        f"{base}/municipality/merchants",
        headers=admin,
        json={
            "name": "Fuzz Shop",
            "iban": "NL91ABNA0417164300",
            "area": "WK020201",
            "purposes": ["LOCAL_SPENDING"],
            "pin": "24680",
        },
    )
    organisation = httpx.post(
        f"{base}/municipality/organisations",
        headers=admin,
        json={
            "name": "Fuzz Club",
            "area": "GM0202",
            "wallet_address": "0x000000000000000000000000000000000000fUZZ".replace("fUZZ", "f022"),
        },
    )
    for answer in (resident, merchant, organisation):
        assert answer.status_code == 201, answer.text
    return {
        "resident": resident.json()["id"],
        "merchant": merchant.json()["id"],
        "organisation_verifier": organisation.json()["id"],
    }


def _token(base: str, admin: dict[str, str], role: str, subject_id: int | None) -> str:
    answer = httpx.post(
        f"{base}/municipality/tokens",
        headers=admin,
        json={"role": role, "subject_id": subject_id, "label": f"fuzz {role}"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


# Each role fuzzes the operations of its own group (the others answer it 403, which proves little).
ROLE_TAGS = {
    "municipality_admin": ["municipality", "public", "auth"],
    "debt_counsellor": ["municipality"],
    "resident": ["residents"],
    "merchant": ["merchants"],
    "organisation_verifier": ["organisations"],
}


def test_fuzzed_requests_get_documented_answers_and_never_a_server_error(settings, tmp_path):
    assert SCHEMATHESIS.exists(), "run `make setup` first: schemathesis is installed in .tools/schemathesis"
    env = _server_env(settings)
    python = sys.executable
    admin_token = subprocess.run(
        [python, "-m", "socialcoin.server", "token", "--label", "schemathesis"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [python, "-m", "socialcoin.server", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    failures = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        admin = {"Authorization": f"Bearer {admin_token}"}
        subjects = _subjects(base, admin)
        for role, tags in ROLE_TAGS.items():
            token = (
                admin_token if role == "municipality_admin" else _token(base, admin, role, subjects.get(role))
            )
            command = [
                str(SCHEMATHESIS),
                "--no-color",
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--header",
                f"Authorization: Bearer {token}",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "10",
                "--workers",
                "1",
                "--suppress-health-check",
                "all",
                "--seed",
                "20261123",
            ]
            for tag in tags:
                command += ["--include-tag", tag]
            # Signing out would end the fuzzing session itself; its own tests cover it.
            command += ["--exclude-path-regex", r"^/auth/logout$|/tokens/\{token_id\}/revoke$"]
            run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
            if run.returncode != 0:
                failures.append(f"=== as {role} ===\n{run.stdout[-12000:]}{run.stderr[-2000:]}")
    finally:
        server.terminate()
        server.wait(timeout=20)
        log_file.close()
    server_log = (tmp_path / "server.log").read_text()[-4000:]
    assert not failures, "\n".join(failures) + f"\n--- server log ---\n{server_log}"
