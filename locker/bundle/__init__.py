"""Evidence bundles: a dispute as one verifiable ZIP (BagIt), and taking one in (import)."""
