"""`python -m bot run` and `sync` without a usable token: clear help, the right exit code, no secret shown."""

from __future__ import annotations

import argparse

import discord
import pytest

import bot.commands.run as run_command
import bot.commands.sync as sync_command
from bot.config import get_settings


@pytest.fixture
def no_token(monkeypatch, tmp_path):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def bad_token(monkeypatch, tmp_path):
    monkeypatch.setenv("DISCORD_TOKEN", "MTIzNDU2.secret-token-value")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield "MTIzNDU2.secret-token-value"
    get_settings.cache_clear()


def test_run_without_token_exits_2(no_token):
    """Without DISCORD_TOKEN, run stops with exit code 2 instead of crashing."""
    assert run_command.handle(argparse.Namespace()) == 2


def test_run_without_token_explains_how_to_get_one(no_token, capsys):
    """The message walks through the Developer Portal, the .env file and the console mode."""
    run_command.handle(argparse.Namespace())
    err = capsys.readouterr().err
    assert "Reset Token" in err
    assert "DISCORD_TOKEN=" in err
    assert "Message Content Intent" in err
    assert "python -m bot console" in err


def test_sync_without_token_exits_2(no_token, capsys):
    """`sync` without a token gives the same help and exit code 2."""
    assert sync_command.handle(argparse.Namespace(guild=None)) == 2
    assert "Reset Token" in capsys.readouterr().err


def test_refused_token_is_never_printed(bad_token, monkeypatch, capsys):
    """When Discord refuses the token, the message says so without echoing the token."""

    async def refuse(settings, stop=None):
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(run_command, "serve", refuse)
    monkeypatch.setattr(discord.utils, "setup_logging", lambda **kwargs: None)  # keep pytest's handlers
    assert run_command.handle(argparse.Namespace()) == 1
    out = capsys.readouterr()
    assert "refused the token" in out.err
    assert bad_token not in out.err + out.out


def test_run_is_registered_on_the_cli():
    """`python -m bot run` and `sync --guild` parse to our handlers."""
    from bot.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["run"]).func is run_command.handle
    args = parser.parse_args(["sync", "--guild", "123"])
    assert args.func is sync_command.handle and args.guild == 123
