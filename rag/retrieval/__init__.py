"""Finding the passages for a question.

- `retrieve`: the hybrid retriever (Chroma vectors + BM25, filters, fusion) returning `Context`s;
- `scoring`: the sentence evidence and scores shared by the retriever and the answerers.
"""
