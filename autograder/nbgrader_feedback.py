"""nbgrader feedback preprocessor: tracebacks of graded test cells shrink to their last line.

nbgrader's feedback shows a failing test cell's traceback, and a traceback quotes the cell's
code, hidden tests included (nbgrader issues #917 and #1363). ClearHiddenTests removes the
hidden region from the cell's source; TrimGradedTracebacks removes it from the outputs, keeping
only "ename: evalue" (where this course's grader puts its diagnoses).
"""
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor


class TrimGradedTracebacks(NbGraderPreprocessor):
    """Replace every traceback of an autograded test cell by its "ename: evalue" line."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
