"""``python -m geo``: the command-line entry point (the CLI itself lives above the engine, in maps.cli)."""
import sys


def main() -> int:
    from maps.cli import main as run  # imported here so the engine never depends on maps at import
    return run()


if __name__ == "__main__":
    sys.exit(main())
