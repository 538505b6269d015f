"""One check per exercise: a plain function over plain data that returns a :class:`~autograder.results.CheckResult`."""
