"""Submissions that prove the autograder right: correct, mutated, stubbed and faulty ones."""
