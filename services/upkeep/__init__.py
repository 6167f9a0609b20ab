"""Keeping listings from leading nowhere: availability that lapses, tracked replies."""
