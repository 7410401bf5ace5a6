"""Patient and clinician education: readability, articles, handouts, discharge instructions."""
