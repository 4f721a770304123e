"""`python -m srpo …` (and `accelerate launch -m srpo …`): the same command as `srpo …`."""

from srpo.cli import app

if __name__ == "__main__":
    app()
