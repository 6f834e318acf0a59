#!/usr/bin/env bash
# The credit-risk example from the first command to the last (README.md beside this file tells
# the story). Run it from anywhere with the project's environment active:
#
#   source .venv/bin/activate            # once, at the repository's root
#   examples/credit-risk/run.sh [network up options, e.g. --ledger embedded --port-base 18000]
#
# Everything it makes stays in this folder: data/, the models, scores.csv, audit.csv, and the
# network's run folder .fedledger/ (still running at the end, for you to explore;
# `fedledger network down --purge` here removes it). Its network takes ports from 18000 unless
# --port-base says otherwise, so that it runs beside the quick start's demo network (17000).
set -euo pipefail
cd "$(dirname "$0")"

up_options=("$@")
case " $* " in
  *" --port-base"*) ;;
  *) up_options+=(--port-base 18000) ;;
esac

step() { printf '\n$ %s\n' "$*"; "$@"; }

if [ -e .fedledger ]; then
  echo "this example's network exists already (.fedledger): run \`fedledger network down --purge\` in $(pwd) first" >&2
  exit 1
fi

# 1. Three banks' exports (the stand-in for data that never leaves each bank).
step python make_data.py

# 2. A draft of the task from bank A's file; task.yaml is the version the banks agreed on.
step fedledger task init --from data/bank-a/train.csv --target default --id credit-risk-example \
  --out draft.yaml --overwrite
step fedledger task validate task.yaml

# 3. Each bank puts its files in the agreed shape; rows no rule can repair are set aside.
step fedledger data check --task task.yaml data/bank-b/train.csv --limit 3 || true
for bank in bank-a bank-b bank-c; do
  for part in train holdout; do
    step fedledger data sanitise --task task.yaml "data/$bank/$part.csv" \
      --out "data/$bank/$part.clean.csv" --rejects "data/$bank/$part.rejects.csv" --overwrite
  done
done
step fedledger data sanitise --task task.yaml data/new-applicants.csv \
  --out data/new-applicants.clean.csv --overwrite

# 4. Bank A's own model, with plain scikit-learn, made to fit the task and checked offline.
step python train.py data/bank-a/train.clean.csv model.skops
step fedledger models convert model.skops --task task.yaml --out model.onnx \
  --trust sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor
step fedledger models check model.onnx --task task.yaml --data data/bank-a/holdout.clean.csv

# 5. The consortium's network, each bank's validator on its own holdout, the task on-chain.
step fedledger network up --validators validators.yaml "${up_options[@]}"
step fedledger task create task.yaml --org Org1MSP

# 6. Bank A proposes; the three validators evaluate and vote; the chaincode decides.
step fedledger propose model.onnx --task credit-risk-example --org Org1MSP --wait

# 7. Bank A scores its new applications with the champion, verified against the ledger.
step fedledger predict data/new-applicants.clean.csv --task credit-risk-example \
  --id-column application_id --out scores.csv --org Org1MSP

# 8. An auditor's copy of the task's whole history, checked against the ledger.
step fedledger audit export --task credit-risk-example --format csv --out audit.csv
step fedledger audit verify audit.csv
