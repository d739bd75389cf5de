"""Studies: many base/LoRA video pairs evaluated with the suite, compared with paired statistics.

Above the suite (the suite never imports this package). One way through it: ``manifest`` (the pairs, checked
before anything runs) -> ``executors`` (local or Ray; ``suite.evaluate_file`` per video) -> ``store`` (one report
per video, keyed by content hash and options, written atomically; a rerun reuses it) -> ``stats`` (the paired
statistics and the table of metric directions), ``noise`` (the mask noise floor) and ``summary`` (the study's
metric table) -> ``tables``, ``figures`` and ``html`` (the outputs). ``run`` drives it all.
"""
