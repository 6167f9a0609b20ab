"""Providers keep their own listings at /my-listing/: who may (access), signing in by an
emailed one-time link (sign_in), what they edit (forms, views), and what waits for staff
(moderation)."""
