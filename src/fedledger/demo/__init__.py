"""`fedledger demo`: three organisations govern one credit-risk model, end to end."""
