"""The layer every ledger backend and the validators stand on.

A network's definition (`definition`), its ports (`ports`), the run folder's layout (`layout`),
the processes it started and recorded (`processes`), readiness polling (`health`) and the rows
of `fedledger network status` (`status`). Nothing here knows a backend: `fedledger.network`
(native Fabric) and `fedledger.embedded` (the embedded ledger) import this package and not each
other; `fedledger.backends` picks one of them. Every error it raises derives from
`errors.RuntimeLayerError`.
"""
