"""Development tools, kept apart from the runtime package ``python_hooks``.

* ``python -m devtools.generate``: the deterministic sample-data generator;
* ``python -m devtools.compare_marts``: two builds' marts compared cell for cell
  (``make test-spark``);
* ``python -m devtools.compare_builds``: two versions of the project built on the
  same data, every published table compared.
"""
