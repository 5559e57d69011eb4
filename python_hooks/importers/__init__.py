"""``precompute import``: turn other kinds of input into the contract's source directory.

One module per kind of source:

- ``sqlite_db``: the legacy dashboard's SQLite database (every table);
- ``mixpanel_export``: Mixpanel's raw event export, JSON lines (``mixpanel_event``);
- ``csv_files``: CSV files with the contract's columns (every table found).

Each writes ``<table>.parquet`` files of the contract's types, plus
``import_rejects.parquet`` (every input row it could not read, with its reason;
an optional source the models list with their own rejects) and
``import_report.json``. ``common`` holds what they share; ``command`` the
command line.
"""
