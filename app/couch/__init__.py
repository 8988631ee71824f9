"""CouchDB: the client, MoDB names, design docs, their installer, index state, view cache."""
