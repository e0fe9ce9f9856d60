"""Tier: the churn API served by a real `bentoml serve`."""
