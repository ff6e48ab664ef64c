"""Property-based fuzzing (hypothesis) of the parser, the credentials and the whole verify path."""
