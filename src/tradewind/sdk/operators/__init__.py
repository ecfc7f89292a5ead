"""The built-in operators: bash, python, empty, branching and short-circuiting."""
