"""What starts the student's kernel or runs inside it.

- :mod:`~autograder.kernel.factory` and :mod:`~autograder.kernel.factory_server`: one process per grading
  worker imports TensorFlow once and forks a fresh kernel per notebook;
- :mod:`~autograder.kernel.isolation` (bubblewrap around the factory) and :mod:`~autograder.kernel.sandbox`
  (Landlock inside each kernel): what a kernel may read, write and connect to;
- :mod:`~autograder.kernel.course_copy`: the course packages each kernel imports, without the lesson's answers;
- :mod:`~autograder.kernel.recorder` and :mod:`~autograder.kernel.serialize`: inside the kernel, observe each
  exercise and save it as data for the grader (:mod:`autograder.protocol` names what both sides agree on).
"""
