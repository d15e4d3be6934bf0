"""`python -m autograder grade PATH... --out grades.csv`: see autograder.cli."""
import sys

from .cli import main

sys.exit(main())
