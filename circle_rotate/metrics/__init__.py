"""One module per metric family; each is a pure function of frames (and masks or embeddings) to numbers."""
