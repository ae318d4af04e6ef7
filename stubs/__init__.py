# Generated from course/solutions/__init__.py by `grader stubs`; do not edit by hand.
