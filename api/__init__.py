"""The HTTP API (`rag serve`): answers as JSON or server-sent events, an OpenAI-compatible chat
endpoint, the articles, health checks; API keys and limits. FastAPI on uvicorn."""

from api.app import create_app
from api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]
