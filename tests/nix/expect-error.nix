# The error text a test of `file` expects (empty: none), for run.sh.
{ file, name }: ((import file).${name}).expectError or ""
