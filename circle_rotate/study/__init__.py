"""Studies: many base/LoRA video pairs evaluated with the suite, compared with paired statistics.

Above the suite (the suite never imports this package). ``stats`` holds the paired statistics and the table of
metric directions, ``noise`` the mask noise floor, ``summary`` the study's metric table, ``tables``, ``figures``
and ``html`` its outputs.
"""
