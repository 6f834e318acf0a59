"""fedledger's AWS adapters: thin Lambda entry points over the local services.

- `upload_handler.handler`: an S3 upload proposes the model (the logic of `fedledger watch`).
- `serving_handler.handler`: the champion's API and dashboard behind API Gateway (the app of
  `fedledger serve`).
- `settings`: the FEDLEDGER_* environment both read (profile, organisation, store, task); each
  handler adds its own variables.
"""
