from click.testing import CliRunner

from hello import greeting, main


def test_greeting():
    assert greeting("Nix") == "Hello, Nix!"


def test_main():
    result = CliRunner().invoke(main, ["--name", "Nix"])
    assert result.exit_code == 0
    assert result.output == "Hello, Nix!\n"
