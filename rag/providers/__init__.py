"""The clients of outside models: the chat model and the embedder (the two provider seams).

- `llm`: the OpenAI-compatible chat client, its limits and error mapping;
- `wire`: parsing what the chat model sends back (JSON answers, streamed chunks);
- `embeddings`: the local MiniLM embedder (`Embedder`) and `build_embedder`.
"""
