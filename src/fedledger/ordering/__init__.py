"""The ordering organisation on its own host: its folder, its public file, its orderer process,
a channel's genesis block from the organisations' exported files, and the orderer's join."""
