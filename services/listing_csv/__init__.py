"""Bulk editing of listings in the admin with CSV files.

Two sheets: listings (one row per listing: `listings.py`) and their services (one row per
service, with fees, formats and places: `service_rows.py`). `cells.py` reads a file with
every fault named and writes cells a spreadsheet opens safely; an import is checked row by
row (`checking.py`), previewed with each change's old and new value, and, once confirmed,
checked again and written by the background worker (`imports.py`, `writing.py`), in one
transaction or not at all. `admin.py` is the pages.
"""
