"""Channel configuration: its elements as configtxgen writes them, updates computed with
configtxlator's semantics, their signatures, and an orderer's checks of them."""
