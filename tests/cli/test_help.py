"""Every command explains itself with an example, Dutch first and English beside; no backend needed."""

from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT
from socialcoin.cli.main import cli


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
        else:
            found.append((*path, name))
    return found


@pytest.mark.parametrize("path", every_command(cli), ids=lambda path: " ".join(path) or "socialcoin")
def test_help_explains_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="socialcoin")
    assert result.exit_code == 0
    assert "Voorbeeld / example:\n" in result.stdout
    example = result.stdout.split("Voorbeeld / example:\n", 1)[1]
    assert "socialcoin " + " ".join(path) in example


def test_wrong_use_is_exit_code_2_and_the_installed_command_runs():
    result = CliRunner().invoke(cli, ["mint", "--no-such-option", "x.csv"], prog_name="socialcoin")
    assert result.exit_code == 2 and "No such option" in result.stderr
    command = str(ROOT / ".venv" / "bin" / "socialcoin")  # installed by make setup
    installed = subprocess.run([command, "--version"], capture_output=True, text=True)
    assert installed.returncode == 0 and installed.stdout.startswith("socialcoin, version ")
    module = subprocess.run([sys.executable, "-m", "socialcoin.cli", "status", "--api", "http://127.0.0.1:9"])
    assert module.returncode == 3


@pytest.mark.parametrize("path", every_command(cli)[1:], ids=lambda path: " ".join(path))
def test_usage_names_the_arguments_as_the_help_text_does(path):
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="socialcoin")
    usage = result.stdout.split("\n\n", 1)[0]
    assert not re.search(r"\b[A-Z]+_", usage), usage  # a parameter's Python name (coin_) shown as is


def test_verifier_add_shows_org_coin_address():
    result = CliRunner().invoke(cli, ["verifier", "add", "--help"], prog_name="socialcoin")
    assert result.stdout.startswith("Usage: socialcoin verifier add [OPTIONS] ORG COIN ADDRESS\n")


def test_admit_asks_for_the_buurt_column():
    result = CliRunner().invoke(cli, ["admit", "--help"], prog_name="socialcoin")
    described, example = result.stdout.split("Voorbeeld / example:")
    assert "dossiernummer;naam;buurt;email\n" in example
    described = " ".join(described.split())  # as wrapped for the terminal
    assert (
        "kolommen dossiernummer, naam en buurt" in described
        and "columns case_number, name and buurt (or area)" in described
    )
