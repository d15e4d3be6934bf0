"""Points of every graded function, read from its Task record in tasks/<assignment>.py.

{assignment: {function: points}}, in the order of the course contract. A function's points are
shared evenly among the cases of its hidden grid (so partial credit means "this many of the
situations the function must handle"); the arguments its task calls invalid, when it has any,
weigh one more case together. The exception is an outcome-graded task (fine_tune): one test,
all its points or none.
"""
from tasks import ASSIGNMENTS, load

POINTS = {assignment: {task.name: task.points for task in load(assignment).graded}
          for assignment in ASSIGNMENTS}
