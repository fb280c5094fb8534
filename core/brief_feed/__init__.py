"""Every recipient's briefs as a private Atom feed at a secret URL (any platform)."""
