"""A minimal application: `hello --name Nix` greets Nix."""

import click


def greeting(name: str) -> str:
    return f"Hello, {name}!"


@click.command()
@click.option("--name", default="world", show_default=True, help="Whom to greet.")
def main(name: str) -> None:
    """Print a greeting."""
    click.echo(greeting(name))
