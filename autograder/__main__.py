"""`python -m autograder COMMAND ...` (grade, export, report, similarity, gradescope): see autograder.cli."""
import sys

from .cli import main

sys.exit(main())
