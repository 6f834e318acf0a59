"""`fedledger demo`: three organisations govern one credit-risk model, end to end."""

from fedledger.demo.story import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
