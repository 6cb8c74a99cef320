"""`python -m vitocc` runs the command-line interface."""

from vitocc.cli import main

if __name__ == "__main__":
    main()
