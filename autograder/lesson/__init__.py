"""Grading one lesson notebook, in pipeline order (:func:`autograder.lesson.grade.grade_notebook` runs it).

1. **read** the submitted file (:mod:`~autograder.lesson.read`): a file that isn't a lesson notebook scores 0
   with a message, and the student's other lessons are still graded;
2. **restore** the grader-owned cells from the released lesson (:mod:`~autograder.lesson.restore`), so the
   student's edits to check cells change nothing; this comes before instrumenting, which finds the check cells
   by their released source;
3. **instrument** (:mod:`~autograder.lesson.instrument`): check cells record observations instead of checking in
   the kernel, and a last cell records the lesson's trained ``model`` and ``history`` for the report;
4. **execute** in a fresh, sandboxed kernel in a temporary working folder, within the limits
   (:mod:`~autograder.lesson.execute`);
5. **collect** (:mod:`~autograder.lesson.collect`): each check's observation, taken only from while its own cell
   ran, is checked in the grader's process after the kernel is gone, with the grader's own probe inputs rebuilt
   here rather than the ones the kernel sent back.

Nothing the kernel prints or returns becomes a score; the most it can say on its own is "not attempted" or
"error", both worth 0 points.
"""
