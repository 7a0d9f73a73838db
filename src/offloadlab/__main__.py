"""Allow ``python -m offloadlab``."""

from offloadlab.cli import main

if __name__ == "__main__":
    main()
