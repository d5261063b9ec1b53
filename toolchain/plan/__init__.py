"""Memory planning: where every activation lives in the static arena."""
