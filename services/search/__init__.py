"""Finding listings: the criteria, the in-memory listing index that answers them, and the
parts of the results page.

What the rest of the site uses:

- `criteria.CRITERIA`: every search criterion, declared once.
- `filters`: the search form (`search_form`, `criteria_of`) and `Criteria`, a search's
  criteria with their SQL form, the reference the index is tested against.
- `listing_index.current_index()`: this process's index, applying edits as they are logged
  (`models.listings_changed()` logs them).
- `matching.results()` and `matching.count()`: a search's results, in order, and how many.
- `facets.facet_counts()`: how many results each option of each filter would give.
- `results`: what the page says about a search (summary, chips, ways to widen it).

The rest is how the index works: `facet_index` (one index's arrays), `selection` (a search
applied to one), `word_index` (search words, on PostgreSQL), `listing_changes` (reading
the change log), `text` (search words in SQL).
"""
