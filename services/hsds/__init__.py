"""Open Referral HSDS 3.0: the read-only API, and the mapping of listings to HSDS and back."""
