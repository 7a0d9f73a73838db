"""A local OpenAI-compatible chat-completions server that plays a script of faults (tests only)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"


class FaultServer:
    """Serves POST /v1/chat/completions on 127.0.0.1; each request takes the next script step.

    Steps: ("timeout", seconds), ("status", code), ("text", answer text), ("reject_format", (code, dialect))
    which rejects a request asking for structured output in ``dialect`` with HTTP ``code`` (and answers any
    other request). When the script is used up, ``default`` is answered.
    """

    def __init__(self, script: list[tuple[str, Any]], default: str):
        self.script = list(script)
        self.default = default
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    step = server.script.pop(0) if server.script else ("text", server.default)
                server.respond(self, body, *step)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def respond(self, handler: BaseHTTPRequestHandler, body: dict, kind: str, arg: Any) -> None:
        """Play one step."""
        if body.get("model") != MODEL:
            return self.send(
                handler,
                404,
                {
                    "error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
            )
        if kind == "timeout":
            time.sleep(arg)
            return self.send(handler, 200, completion("{}"))
        if kind == "status":
            return self.send(
                handler,
                arg,
                {"error": {"message": f"scripted HTTP {arg}", "type": "server_error"}},
                {"Retry-After": "0"} if arg == 429 else {},
            )
        if kind == "reject_format":
            code, dialect = arg
            asked = dialect_of(body)
            if asked == dialect:
                return self.send(
                    handler,
                    code,
                    {"error": {"message": f"unsupported response_format: {dialect}", "type": "invalid_request_error"}},
                )
        return self.send(handler, 200, completion(arg if kind == "text" else self.default))

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, code: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(code)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout step)
            pass

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(text: str) -> dict:
    """A chat.completion response body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 400, "completion_tokens": 50, "total_tokens": 450},
    }


def dialect_of(body: dict) -> str:
    """The structured-output dialect a request body asks for ('off' for none)."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object":
        return "json_object_schema" if "schema" in fmt else "json_object"
    if fmt.get("type"):
        return str(fmt["type"])
    return next((k for k in ("guided_json", "format") if k in body), "off")
